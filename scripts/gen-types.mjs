// Generates TypeScript types from the JSON Schemas in schemas/; `--check` fails when the committed files drift.
// For each schema two types are emitted: the file as written, and the resolved form after ajv applied
// the schema defaults (every property with a default becomes required).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';

const SCHEMAS = [['config.schema.json', 'config.ts']];
const check = process.argv.includes('--check');
const options = (banner) => ({
  bannerComment: banner,
  additionalProperties: false,
  ignoreMinAndMaxItems: true,
  declareExternallyReferenced: true,
  style: { singleQuote: true },
});

function withDefaultsRequired(node) {
  if (Array.isArray(node)) return node.map(withDefaultsRequired);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = withDefaultsRequired(v);
  if (out.properties && typeof out.properties === 'object') {
    const withDefault = Object.entries(out.properties)
      .filter(([, v]) => v && typeof v === 'object' && 'default' in v)
      .map(([k]) => k);
    out.required = [...new Set([...(out.required ?? []), ...withDefault])];
  }
  return out;
}

let drift = false;
mkdirSync(new URL('../schemas/generated/', import.meta.url), { recursive: true });
for (const [src, out] of SCHEMAS) {
  const schema = JSON.parse(readFileSync(new URL(`../schemas/${src}`, import.meta.url), 'utf8'));
  const banner = `// Generated from schemas/${src} by scripts/gen-types.mjs; do not edit.`;
  const input = await compile(schema, schema.title, options(banner));
  const resolvedSchema = withDefaultsRequired({ ...schema, title: `${schema.title}Resolved` });
  for (const def of Object.values(resolvedSchema.definitions ?? {})) def.title = undefined;
  const resolved = await compile(resolvedSchema, resolvedSchema.title, {
    ...options(''),
    declareExternallyReferenced: false,
  });
  const ts = `${input}\n${resolved}`;
  const target = new URL(`../schemas/generated/${out}`, import.meta.url);
  if (check) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {}
    if (current !== ts) {
      drift = true;
      console.error(`schemas/generated/${out} is out of date; run npm run gen`);
    }
  } else writeFileSync(target, ts);
}
process.exit(drift ? 1 : 0);
