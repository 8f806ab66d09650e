// SET, RESET and SHOW: the parameters a statement changes, the flags the policy keys on
// (role, session authorization, search_path) and the search_path effect the session tracks.
import type { VariableSetStmt } from 'libpg-query';
import { constString, nodeType, unwrap, type Walker } from './builder.js';
import type { SettingChange } from './facts.js';
import { breaksLexing } from './names.js';

/** A SET argument as text: constants as written, identifiers as their (folded) name. */
function argText(node: unknown): string | null {
  const type = nodeType(node);
  if (type === 'TypeCast') return argText(unwrap<{ arg?: unknown }>(node, 'TypeCast')?.arg);
  if (type === 'String') return unwrap<{ sval?: string }>(node, 'String')?.sval ?? '';
  return constString(node) ?? null;
}

/** The parameters a VariableSetStmt changes (names lower-cased: GUC names are case-insensitive). */
export function describeSet(v: VariableSetStmt): SettingChange[] {
  const name = (v.name ?? 'all').toLowerCase();
  const local = v.is_local === true;
  switch (v.kind) {
    case 'VAR_SET_VALUE': {
      const values = (v.args ?? []).map((a) => argText(a) ?? '?');
      return [{ name, value: values.join(', '), local }];
    }
    case 'VAR_SET_MULTI': {
      const out: SettingChange[] = [];
      for (const a of v.args ?? []) {
        const d = unwrap<{ defname?: string; arg?: unknown }>(a, 'DefElem');
        if (d !== undefined) out.push({ name: d.defname ?? name, value: argText(d.arg), local });
        else out.push({ name: name.replace(/ /g, '_'), value: argText(a), local });
      }
      return out.length > 0 ? out : [{ name, value: null, local }];
    }
    case 'VAR_RESET_ALL':
      return [{ name: 'all', value: null, local }];
    default:
      return [{ name, value: null, local }];
  }
}

/** SET / RESET; returns the command tag. */
export function walkSet(w: Walker, v: VariableSetStmt): string {
  for (const s of describeSet(v)) {
    w.b.setting(s);
    // Later statements would no longer lex as analyzed: treat as SQL we cannot see through.
    if (breaksLexing(s.name, s.value)) w.b.flag('dynamic_sql');
  }
  const name = (v.name ?? 'all').toLowerCase();
  const local = v.is_local === true;
  if (name === 'role') w.b.flag('role_change');
  if (name === 'session_authorization') {
    w.b.flag('session_authorization');
    w.b.flag('role_change');
  }
  if (name === 'search_path' || v.kind === 'VAR_RESET_ALL') {
    switch (v.kind) {
      case 'VAR_SET_VALUE': {
        w.b.flag('search_path_change');
        // Each item names one schema exactly (PostgreSQL quotes them as identifiers).
        const path = (v.args ?? []).map((a) => argText(a));
        if (path.some((p) => p === null)) w.b.flag('dynamic_sql');
        else w.b.effects.push({ type: 'SetSearchPath', path: path as string[], local });
        break;
      }
      case 'VAR_SET_DEFAULT':
      case 'VAR_RESET':
      case 'VAR_RESET_ALL':
        w.b.flag('search_path_change');
        w.b.effects.push({ type: 'SetSearchPath', path: null, local });
        break;
      default:
        // SET ... FROM CURRENT keeps the value.
        break;
    }
  }
  return v.kind === 'VAR_RESET' || v.kind === 'VAR_RESET_ALL' ? 'RESET' : 'SET';
}
