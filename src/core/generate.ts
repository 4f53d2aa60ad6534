import { NON_PRODUCT_CODES } from './clean.js';
import { csvLine } from './csv.js';
import { SOURCE_FIELDS } from './header.js';

/**
 * UCI-shaped synthetic invoice lines, deterministic for a seed.
 *
 * Proportions follow the real data's README: about 25% of lines without CustomerID, 1.7% on cancellation
 * invoices, 1% exact duplicates, 0.5% non-product codes, 0.5% zero prices, and descriptions with commas
 * and double quotes (which need CSV quoting). `dirty` adds rows that must be quarantined, one kind each
 * in turn, for demos and tests.
 */
export interface GenerateOptions {
  rows: number;
  seed: number;
  /** `spark`: as the shared file (`2010-12-01 08:26:00`, `17850.0`); `uci`: as the mirrored data.csv. */
  style?: 'spark' | 'uci';
  /** Fraction of rows that are deliberately invalid, 0 by default. */
  dirty?: number;
}

export const GENERATED_HEADER = csvLine(SOURCE_FIELDS);

/** A small deterministic PRNG (mulberry32): the same seed gives the same file on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'WHITE',
  'HANGING',
  'HEART',
  'T-LIGHT',
  'HOLDER',
  'METAL',
  'LANTERN',
  'CREAM',
  'CUPID',
  'HEARTS',
  'COAT',
  'HANGER',
  'KNITTED',
  'UNION',
  'FLAG',
  'HOT',
  'WATER',
  'BOTTLE',
  'RED',
  'WOOLLY',
  'HOTTIE',
  'SET',
  'OF',
  '6',
  'BABUSHKA',
  'NESTING',
  'BOXES',
  'GLASS',
  'STAR',
  'FROSTED',
  'VINTAGE',
  'JUMBO',
  'BAG',
  'RETROSPOT',
  'LUNCH',
  'BOX',
  'PAPER',
  'CHAIN',
  'KIT',
  'CAKE',
  'CASES',
  'REGENCY',
  'TEACUP',
  'SAUCER',
  'PINK',
  'BLUE',
  'GREEN',
];
const COUNTRIES: [string, number][] = [
  ['United Kingdom', 0.914],
  ['Germany', 0.931],
  ['France', 0.947],
  ['EIRE', 0.962],
  ['Spain', 0.967],
  ['Netherlands', 0.972],
  ['Belgium', 0.976],
  ['Switzerland', 0.98],
  ['Portugal', 0.983],
  ['Australia', 0.986],
  ['Norway', 0.989],
  ['Italy', 0.992],
  ['Channel Islands', 0.995],
  ['Unspecified', 1],
];
const PRICES = [
  0.29, 0.42, 0.55, 0.65, 0.85, 1.25, 1.45, 1.65, 1.69, 2.1, 2.55, 2.95, 3.39, 4.95, 7.95, 12.75,
];
const NON_PRODUCT = [...NON_PRODUCT_CODES];
const START = Date.UTC(2010, 11, 1, 8, 0, 0);
const SPAN_MS = 373 * 24 * 3600 * 1000;

interface Product {
  code: string;
  description: string;
  price: number;
}

function catalogue(random: () => number, size: number): Product[] {
  const products: Product[] = [];
  for (let i = 0; i < size; i++) {
    const words = 2 + Math.floor(random() * 4);
    let description = Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(
      ' ',
    );
    const quirk = random();
    if (quirk < 0.01) description = `${description}, ASSORTED`;
    else if (quirk < 0.013) description = `"${description}" DESIGN`;
    else if (quirk < 0.015) description = `${description} 12"`;
    const suffix = random() < 0.3 ? String.fromCharCode(65 + Math.floor(random() * 8)) : '';
    products.push({
      code: `${20000 + Math.floor(random() * 70000)}${suffix}`,
      description,
      price: PRICES[Math.floor(random() * PRICES.length)]!,
    });
  }
  return products;
}

const DIRTY_KINDS = [
  'quantity',
  'price',
  'date',
  'customer',
  'missing',
  'columns',
  'long',
  'control',
] as const;

/**
 * Yields CSV lines (header first, no terminators). Memory is constant in `rows`.
 *
 * @example for (const line of generateCsv({ rows: 100, seed: 1 })) out.write(`${line}\n`);
 */
export function* generateCsv(options: GenerateOptions): Generator<string> {
  const random = prng(options.seed);
  const style = options.style ?? 'spark';
  const dirty = options.dirty ?? 0;
  const products = catalogue(random, 3000);
  yield GENERATED_HEADER;

  let emitted = 0;
  let invoiceNo = 536365;
  let dirtyTurn = 0;
  let previous: string[] | null = null;
  while (emitted < options.rows) {
    invoiceNo++;
    const cancelled = random() < 0.017 * 1.5;
    const adjustment = !cancelled && random() < 0.0002;
    const guest = random() < 0.25;
    const customer = guest ? '' : String(12346 + Math.floor(random() * 6000));
    let countryIndex = 0;
    const pick = random();
    while (COUNTRIES[countryIndex]![1] < pick) countryIndex++;
    const country = COUNTRIES[countryIndex]![0];
    const at =
      START + Math.floor((emitted / Math.max(1, options.rows)) * SPAN_MS) + Math.floor(random() * 600_000);
    const date = formatDate(new Date(at - (at % 60_000)), style);
    const invoice = `${cancelled ? 'C' : adjustment ? 'A' : ''}${invoiceNo}`;
    const lines = cancelled ? 1 + Math.floor(random() * 3) : 1 + Math.floor(random() * 30);
    for (let i = 0; i < lines && emitted < options.rows; i++) {
      if (previous && random() < 0.0098) {
        // An exact duplicate of the previous line, as the real export has.
        yield csvLine(previous);
        emitted++;
        continue;
      }
      let fields: string[];
      if (random() < 0.005) {
        const code = NON_PRODUCT[Math.floor(random() * NON_PRODUCT.length)]!;
        fields = [
          invoice,
          code,
          code === 'POST' ? 'POSTAGE' : 'Manual',
          '1',
          date,
          price(random() * 40),
          customer,
          country,
        ];
      } else {
        const product = products[Math.floor(random() * products.length)]!;
        const quantity = (1 + Math.floor(random() * 24)) * (cancelled ? -1 : 1);
        const unit = random() < 0.005 ? 0 : product.price;
        const description = random() < 0.003 ? '' : product.description;
        fields = [invoice, product.code, description, String(quantity), date, price(unit), customer, country];
      }
      if (style === 'spark' && fields[6] !== '') fields[6] = `${fields[6]}.0`;
      if (dirty > 0 && random() < dirty) {
        fields = spoil(fields, DIRTY_KINDS[dirtyTurn++ % DIRTY_KINDS.length]!);
      }
      previous = fields;
      yield csvLine(fields);
      emitted++;
    }
  }
}

function spoil(fields: string[], kind: (typeof DIRTY_KINDS)[number]): string[] {
  const bad = [...fields];
  if (kind === 'quantity') bad[3] = 'six';
  else if (kind === 'price') bad[5] = '1.2.3';
  else if (kind === 'date') bad[4] = '31/31/2011 25:00';
  else if (kind === 'customer') bad[6] = 'guest';
  else if (kind === 'missing') bad[0] = '';
  else if (kind === 'long') bad[2] = 'LONG '.repeat(60);
  else if (kind === 'control') bad[2] = `${bad[2]}\u0000`;
  else bad.push('extra');
  return bad;
}

function price(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function formatDate(d: Date, style: 'spark' | 'uci'): string {
  const p = (n: number) => String(n).padStart(2, '0');
  if (style === 'uci') {
    return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${d.getUTCHours()}:${p(d.getUTCMinutes())}`;
  }
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:00`;
}
