// The demo's shop databases: schema and deterministic FAKE data generated in code (a seeded PRNG, no
// downloads). Personal data is realistic in shape only: reserved e-mail domains, 555-01xx phone
// numbers, SSN-like ids in the never-issued 9xx range, card numbers from the 4000-00 test range.

export interface ShopSeed {
  /** SQL that creates and fills the database (one script, run once). */
  readonly sql: string;
  readonly counts: Readonly<Record<string, number>>;
}

const FIRST = [
  'Ada',
  'Ben',
  'Chloe',
  'Dmitri',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kavya',
  'Liam',
  'Maya',
  'Nils',
  'Olivia',
  'Pablo',
  'Quinn',
  'Rosa',
  'Sven',
  'Tara',
  'Umar',
  'Vera',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
];
const LAST = [
  'Anders',
  "O'Brien",
  'Baker',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Hughes',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quist',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Ulrich',
  'Varga',
  'Weber',
  'Young',
  'Zimmer',
];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com'];
const CITIES = ['Lisbon', 'Oslo', 'Austin', 'Lyon', 'Osaka', 'Leeds', 'Porto', 'Graz', 'Tartu'];
const PRODUCTS: readonly (readonly [string, string, number])[] = [
  ['Trail running shoes', 'footwear', 129.0],
  ['Merino base layer', 'apparel', 79.5],
  ['Insulated bottle', 'gear', 24.9],
  ['Headlamp 400lm', 'gear', 39.0],
  ['Rain shell jacket', 'apparel', 189.0],
  ['Hiking socks (3 pairs)', 'apparel', 21.0],
  ['Ultralight tent', 'camping', 349.0],
  ['Sleeping pad', 'camping', 89.0],
  ['Down sleeping bag', 'camping', 279.0],
  ['Camp stove', 'camping', 59.9],
  ['Trekking poles', 'gear', 69.0],
  ['Daypack 22l', 'bags', 99.0],
  ['Duffel 60l', 'bags', 119.0],
  ['Sunglasses', 'accessories', 49.0],
  ['Beanie', 'accessories', 19.5],
  ['Gaiters', 'footwear', 34.0],
];
const STAFF = 12;
const STATUSES = ['paid', 'paid', 'paid', 'shipped', 'shipped', 'delivered', 'refunded'];

/** mulberry32: a small, fast, seeded PRNG; the same seed always gives the same shop. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!,
  };
}

/** A 16-digit number in the 4000 00 test range with a valid Luhn check digit. */
function cardNumber(r: ReturnType<typeof prng>): string {
  const digits = [4, 0, 0, 0, 0, 0];
  while (digits.length < 15) digits.push(r.int(0, 9));
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = digits[14 - i]!;
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  digits.push((10 - (sum % 10)) % 10);
  return digits.join('').replace(/(\d{4})(?=\d)/g, '$1-');
}

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
const pad = (n: number, w: number) => String(n).padStart(w, '0');

const SCHEMA = `
CREATE TABLE customers (
  id integer PRIMARY KEY, full_name text NOT NULL, email text NOT NULL, phone text,
  ssn text, date_of_birth date, card_number text, city text, created_at timestamptz NOT NULL);
CREATE TABLE products (
  id integer PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, category text NOT NULL,
  price numeric(10,2) NOT NULL, stock integer NOT NULL);
CREATE TABLE orders (
  id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id),
  product_id integer NOT NULL REFERENCES products(id), quantity integer NOT NULL,
  total numeric(10,2) NOT NULL, status text NOT NULL, card_token text NOT NULL,
  ordered_at timestamptz NOT NULL);
CREATE TABLE staff (
  id integer PRIMARY KEY, full_name text NOT NULL, email text NOT NULL, role text NOT NULL,
  salary numeric(10,2) NOT NULL);
`;
const ROLES = ['support', 'warehouse', 'buyer', 'finance', 'engineer'];

/** One shop database: `year` dates its orders, `seed` makes it differ from the other one. */
export function shopSeed(options: {
  readonly seed: number;
  readonly customers: number;
  readonly orders: number;
  readonly year: number;
}): ShopSeed {
  const r = prng(options.seed);
  const rows: string[] = [];
  for (let id = 1; id <= options.customers; id++) {
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    const email = `${first}.${last.replace("'", '')}${id}@${r.pick(DOMAINS)}`.toLowerCase();
    const phone = `+1-555-01${pad(r.int(0, 99), 2)}-${pad(r.int(0, 9999), 4)}`;
    const ssn = `9${pad(r.int(0, 99), 2)}-${pad(r.int(1, 99), 2)}-${pad(r.int(1, 9999), 4)}`;
    const dob = `${r.int(1950, 2004)}-${pad(r.int(1, 12), 2)}-${pad(r.int(1, 28), 2)}`;
    const created = `${options.year - 1}-${pad(r.int(1, 12), 2)}-${pad(r.int(1, 28), 2)}T10:00:00Z`;
    rows.push(
      `(${id}, ${q(`${first} ${last}`)}, ${q(email)}, ${q(phone)}, ${q(ssn)}, ${q(dob)}, ` +
        `${q(cardNumber(r))}, ${q(r.pick(CITIES))}, ${q(created)})`,
    );
  }
  const products = PRODUCTS.map(
    ([name, category, price], i) =>
      `(${i + 1}, ${q(`SKU-${pad(1000 + i, 5)}`)}, ${q(name)}, ${q(category)}, ${price}, ${r.int(0, 400)})`,
  );
  const orders: string[] = [];
  for (let id = 1; id <= options.orders; id++) {
    const product = r.int(1, PRODUCTS.length);
    const quantity = r.int(1, 4);
    const total = (PRODUCTS[product - 1]![2] * quantity).toFixed(2);
    const token = `tok_${r.int(0, 0xffffff).toString(16).padStart(6, '0')}${pad(id, 5)}`;
    const at = `${options.year}-${pad(r.int(1, 11), 2)}-${pad(r.int(1, 28), 2)}T${pad(r.int(8, 20), 2)}:${pad(r.int(0, 59), 2)}:00Z`;
    orders.push(
      `(${id}, ${r.int(1, options.customers)}, ${product}, ${quantity}, ${total}, ` +
        `${q(r.pick(STATUSES))}, ${q(token)}, ${q(at)})`,
    );
  }
  const staff: string[] = [];
  for (let id = 1; id <= STAFF; id++) {
    const name = `${r.pick(FIRST)} ${r.pick(LAST)}`;
    const email = `staff${id}@shop.example.com`;
    staff.push(`(${id}, ${q(name)}, ${q(email)}, ${q(r.pick(ROLES))}, ${r.int(38, 120) * 1000})`);
  }
  const sql = [
    SCHEMA,
    `INSERT INTO customers VALUES\n${rows.join(',\n')};`,
    `INSERT INTO products VALUES\n${products.join(',\n')};`,
    `INSERT INTO orders VALUES\n${orders.join(',\n')};`,
    `INSERT INTO staff VALUES\n${staff.join(',\n')};`,
    'ANALYZE;',
  ].join('\n');
  return {
    sql,
    counts: {
      customers: options.customers,
      products: PRODUCTS.length,
      orders: options.orders,
      staff: STAFF,
    },
  };
}

/** The two demo databases: the live shop and last year's archive. */
export function demoShops(): Readonly<Record<'shop' | 'shop_archive', ShopSeed>> {
  return {
    shop: shopSeed({ seed: 20261124, customers: 200, orders: 1000, year: 2026 }),
    shop_archive: shopSeed({ seed: 20251124, customers: 120, orders: 600, year: 2025 }),
  };
}
