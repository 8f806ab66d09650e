// What the demo prints: the ready banner (where everything is, a connection string and four commands
// per identity, how to approve, the audit view) and one line per policy event while it runs.

import path from 'node:path';
import type { PolicyEvent } from './bundle-publisher.js';
import type { DemoDatabase } from './databases.js';

export interface DemoIdentity {
  readonly id: string;
  readonly group: string;
  readonly summary: string;
  /** Shell variable the banner exports the connection string into. */
  readonly variable: string;
  /** Shell variable for a second connection string, into shop_archive (a credential opens one database). */
  readonly archiveVariable?: string;
  readonly commands: readonly { readonly sql: string; readonly note: string }[];
}

export interface DemoInfo {
  readonly gateway: { readonly host: string; readonly port: number };
  readonly apiUrl: string;
  readonly auditorToken: string;
  readonly issuer: string;
  readonly databases: readonly DemoDatabase[];
  readonly stateDir: string;
  readonly policyClone: string;
  readonly configFile: string;
  readonly identities: readonly (DemoIdentity & {
    readonly url: string;
    readonly archiveUrl?: string;
  })[];
  readonly startupMs: number;
}

/** The path as the person typed it would be: relative to the working directory when inside it. */
export function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

export function approveCommand(id: string, policyClone: string): string {
  return `npm run pgward -- approvals approve ${id} --repo ${shown(policyClone)} --as reviewer@example.com`;
}

export function auditViewUrl(info: Pick<DemoInfo, 'apiUrl' | 'auditorToken'>): string {
  return `${info.apiUrl}/#token=${info.auditorToken}`;
}

export function readyBanner(info: DemoInfo): string {
  const dbs = info.databases
    .map(
      (d) =>
        `${d.name} (${Object.entries(d.counts)
          .map(([t, n]) => `${n} ${t}`)
          .join(', ')})`,
    )
    .join('; ');
  const lines = [
    '',
    `pgward demo is ready (${(info.startupMs / 1000).toFixed(1)} s). Everything runs in this process; Ctrl-C stops it.`,
    '',
    `  gateway      ${info.gateway.host}:${info.gateway.port}  (PostgreSQL wire protocol, no TLS: loopback only)`,
    `  databases    ${dbs}`,
    '               selected by the database name of the connection string (/shop, /shop_archive)',
    `  OIDC issuer  ${info.issuer}  (development IdP: client-credentials tokens for the demo agents)`,
    `  policy repo  ${shown(info.policyClone)}  (edit grants, commit, git push: the demo rebuilds and serves the bundle)`,
    `  config       ${shown(info.configFile)}`,
    `  audit view   ${auditViewUrl(info)}`,
    '               (the #token is an auditor access token, valid 8 hours; the API is at the same address)',
  ];
  for (const who of info.identities) {
    lines.push(
      '',
      `${who.id} (group ${who.group}): ${who.summary}`,
      `  export ${who.variable}='${who.url}'`,
    );
    if (who.archiveVariable !== undefined && who.archiveUrl !== undefined)
      lines.push(`  export ${who.archiveVariable}='${who.archiveUrl}'`);
    for (const c of who.commands)
      lines.push(`  psql "$${who.variable}" -c "${c.sql}"    # ${c.note}`);
  }
  lines.push(
    '',
    'Approve the DELETE: its error HINT names an approval request (apr-…), filed as a branch of the',
    'policy repo. In another terminal, as a reviewer (not the requester), run',
    `  ${approveCommand('<id>', info.policyClone)}`,
    'then run the same DELETE again. The credentials above are pgward credentials minted from the IdP',
    'tokens (8 hours), each for the one database its connection string names.',
    '',
  );
  return `${lines.join('\n')}\n`;
}

export function eventLine(event: PolicyEvent, policyClone: string): string {
  switch (event.type) {
    case 'requested': {
      const a = event.approval;
      const what = a === null ? '' : ` for ${a.identity.sub} in ${a.database}: ${oneLine(a.sql)}`;
      return (
        `[policy] approval request ${event.id} filed${what}\n` +
        `         approve it: ${approveCommand(event.id, policyClone)}\n`
      );
    }
    case 'served': {
      const o = event.outcome;
      const state =
        o.outcome === 'swapped' || o.outcome === 'unchanged'
          ? 'is built, published and served'
          : `is published but NOT served: ${o.message}`;
      const approvals =
        event.newApprovals.length > 0
          ? `; approved, run it again now: ${event.newApprovals.join(', ')}`
          : '';
      return `[policy] main ${event.commit.slice(0, 12)} ${state}${approvals}\n`;
    }
    case 'refused':
      return `[policy] main ${event.commit.slice(0, 12)} refused, the previous bundle keeps serving: ${oneLine(event.message)}\n`;
    case 'error':
      return `[policy] could not read the policy repository: ${oneLine(event.message)}\n`;
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
