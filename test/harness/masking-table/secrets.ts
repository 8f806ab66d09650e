// The masking table's data: a `customers` table whose masked columns hold known secrets, and the byte
// patterns (the secrets and trivially transformed forms of them) that must never reach a client.

/** Masking methods of the fixture's masked columns (data/masking.json of the test policy). */
export const CUSTOMER_MASKS = {
  ssn: 'redact',
  email: 'email',
  phone: 'partial',
  card_number: 'hash',
  date_of_birth: 'null',
  notes: 'redact',
} as const;

export interface CustomerRow {
  readonly id: number;
  readonly name: string;
  readonly score: number | null;
  readonly created_at: string;
  readonly ssn: string;
  readonly email: string;
  readonly phone: string;
  readonly card_number: string;
  readonly date_of_birth: string;
  readonly notes: string | null;
}

export const CUSTOMERS: readonly CustomerRow[] = [
  {
    id: 1,
    name: 'Ada Lovelace',
    score: 90,
    created_at: '2024-01-02 03:04:05+00',
    ssn: '078-05-1120',
    email: 'ada.lovelace@analytical.example',
    phone: '+44 20 7946 0958',
    card_number: '4539 1488 0343 6467',
    date_of_birth: '1815-12-10',
    notes: 'Prefers contact by carrier pigeon',
  },
  {
    id: 2,
    name: 'Grace Hopper',
    score: 95,
    created_at: '2024-02-03 04:05:06.5+00',
    ssn: '219-09-9999',
    email: 'grace.hopper@navy.example',
    phone: '+1 202 555 0143',
    card_number: '5425 2334 3010 9903',
    date_of_birth: '1906-12-09',
    notes: 'Allergic to penicillin',
  },
  {
    id: 3,
    name: 'Alan Turing',
    score: null,
    created_at: '2024-03-04 05:06:07+00',
    ssn: '457-55-5462',
    email: 'alan.turing@bletchley.example',
    phone: '+44 161 496 0000',
    card_number: '3714 496353 98431',
    date_of_birth: '1912-06-23',
    notes: null,
  },
];

/** The secret values themselves, by column. */
export function secretValues(): string[] {
  const out: string[] = [];
  for (const c of CUSTOMERS) {
    for (const column of Object.keys(CUSTOMER_MASKS) as (keyof typeof CUSTOMER_MASKS)[]) {
      const v = c[column];
      if (v !== null) out.push(v);
    }
  }
  return out;
}

const reverse = (s: string) => [...s].reverse().join('');

/** Days since 2000-01-01 as PostgreSQL's binary `date` (big-endian int32). */
function binaryDate(iso: string): Buffer {
  const days = Math.round((Date.parse(`${iso}T00:00:00Z`) - Date.UTC(2000, 0, 1)) / 86_400_000);
  const b = Buffer.alloc(4);
  b.writeInt32BE(days, 0);
  return b;
}

export interface SecretPattern {
  readonly label: string;
  readonly bytes: Buffer;
}

/**
 * Every form of every secret a leak could take: as stored, upper and lower case, digits only (when
 * there are at least six), reversed, hex-encoded, and a date's binary form.
 */
export function secretPatterns(): SecretPattern[] {
  const out = new Map<string, SecretPattern>();
  const add = (label: string, text: string) => {
    if (text.length >= 6 && !out.has(text))
      out.set(text, { label, bytes: Buffer.from(text, 'utf8') });
  };
  for (const v of secretValues()) {
    add(v, v);
    add(`upper(${v})`, v.toUpperCase());
    add(`lower(${v})`, v.toLowerCase());
    add(`reverse(${v})`, reverse(v));
    add(`hex(${v})`, Buffer.from(v, 'utf8').toString('hex'));
    const digits = v.replace(/\D/g, '');
    if (digits.length >= 6) {
      add(`digits(${v})`, digits);
      add(`reverse(digits(${v}))`, reverse(digits));
    }
  }
  const patterns = [...out.values()];
  for (const c of CUSTOMERS)
    patterns.push({ label: `binary date ${c.date_of_birth}`, bytes: binaryDate(c.date_of_birth) });
  return patterns;
}

const PATTERNS = secretPatterns();

/** Labels of every secret pattern found in `bytes` (empty: nothing leaked). */
export function leaks(bytes: Buffer): string[] {
  return PATTERNS.filter((p) => bytes.includes(p.bytes)).map((p) => p.label);
}

/** SQL literal. */
const lit = (v: string | number | null) =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replaceAll("'", "''")}'`;

/** INSERTs of the fixture rows. */
export function customerInserts(): string {
  const rows = CUSTOMERS.map(
    (c) =>
      `(${[c.id, c.name, c.score, c.created_at, c.ssn, c.email, c.phone, c.card_number, c.date_of_birth, c.notes].map(lit).join(', ')})`,
  );
  return `INSERT INTO customers (id, name, score, created_at, ssn, email, phone, card_number, date_of_birth, notes) VALUES ${rows.join(', ')};`;
}
