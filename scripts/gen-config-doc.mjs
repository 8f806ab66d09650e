// Writes docs/configuration.md from schemas/config.schema.json; `--check` fails when the file drifts.
import { readFileSync, writeFileSync } from 'node:fs';

const schema = JSON.parse(
  readFileSync(new URL('../schemas/config.schema.json', import.meta.url), 'utf8'),
);
const rows = [];

function typeOf(node) {
  if (node.$ref) return 'secret reference (`{env: NAME}` or `{file: path}`)';
  if (node.enum) return node.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (Array.isArray(node.type)) return node.type.join(' \\| ');
  if (node.type === 'array') return `array of ${node.items?.type ?? 'object'}`;
  return node.type ?? 'object';
}

function fmtDefault(node) {
  if (!('default' in node)) return '';
  const d = node.default;
  if (typeof d === 'object' && d !== null && !Array.isArray(d) && Object.keys(d).length === 0)
    return '';
  return `\`${JSON.stringify(d)}\``;
}

function walk(node, path, required) {
  if (!node.properties) return;
  for (const [key, child] of Object.entries(node.properties)) {
    if (key === '$schema') continue;
    const p = path === '' ? key : `${path}.${key}`;
    const limits = [];
    if (child.minimum !== undefined) limits.push(`≥ ${child.minimum}`);
    if (child.maximum !== undefined) limits.push(`≤ ${child.maximum}`);
    rows.push(
      `| \`${p}\` | ${typeOf(child)} | ${(required ?? []).includes(key) ? 'yes' : ''} | ${fmtDefault(child)} | ${[child.description ?? '', limits.join(', ')].filter(Boolean).join(' ')} |`,
    );
    if (child.type === 'object' || child.properties) walk(child, p, child.required);
    if (child.type === 'array' && child.items?.properties)
      walk(child.items, `${p}[]`, child.items.required);
  }
}
walk(schema, '', schema.required);

const text = `# Configuration reference

Generated from \`schemas/config.schema.json\` by \`scripts/gen-config-doc.mjs\`; do not edit by hand.

pgward reads one YAML file (\`pgward serve --config pgward.yaml\`). Defaults live in the schema only.
Any key can be overridden from the environment as \`PGWARD_<SECTION>__<KEY>\` (for example
\`PGWARD_LISTEN__PORT=7432\`); values parse as JSON when they can. Secrets are never written inline:
they are references, \`{env: NAME}\` or \`{file: path}\` (relative to the config file; one trailing
newline is ignored). An invalid file is refused with every problem listed by JSON pointer and exit code 2.

| key | type | required | default | description |
|---|---|---|---|---|
${rows.join('\n')}
`;

const target = new URL('../docs/configuration.md', import.meta.url);
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/configuration.md is out of date; run npm run gen');
    process.exit(1);
  }
} else writeFileSync(target, text);
