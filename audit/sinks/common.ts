// Helpers shared by the two sinks: the database-name guard and the JSONEachRow reader.

/** SECURITY: the database name is the only identifier not bound as a parameter (chDB's insert takes
 * a table name), so it must be a plain identifier; the config schema enforces the same pattern. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function assertDatabaseName(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new Error(`audit database name ${JSON.stringify(name)} is not a plain identifier`);
  return name;
}

export function parseJsonEachRow<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) if (line.trim() !== '') out.push(JSON.parse(line) as T);
  return out;
}
