import { HeaderError } from './errors.js';

/** Source fields in their "Online Retail" spelling, in the order of the original export. */
export const SOURCE_FIELDS = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
] as const;
export type SourceField = (typeof SOURCE_FIELDS)[number];

/** A row must have these; Description and CustomerID may be empty, or absent from the header. */
export const REQUIRED_FIELDS: readonly SourceField[] = [
  'InvoiceNo',
  'StockCode',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'Country',
];

/** Header names of both UCI exports ("Online Retail" and "Online Retail II"), normalised. */
const ALIASES: Record<string, SourceField> = {
  invoiceno: 'InvoiceNo',
  invoice: 'InvoiceNo',
  stockcode: 'StockCode',
  description: 'Description',
  quantity: 'Quantity',
  invoicedate: 'InvoiceDate',
  unitprice: 'UnitPrice',
  price: 'UnitPrice',
  customerid: 'CustomerID',
  country: 'Country',
};

/** The source field a header name (or JSON key) stands for, in either export's spelling. */
export function fieldForHeaderName(name: string): SourceField | undefined {
  return ALIASES[normaliseHeaderName(name)];
}

/** Case- and space-insensitive key for a header name (`Customer ID` and `customerid` match). */
export function normaliseHeaderName(name: string): string {
  return name.replace(/[\s_\uFEFF]+/g, '').toLowerCase();
}

/** Where each source field sits in a row; -1 when the header has no such column. */
export interface ColumnIndex {
  readonly positions: Readonly<Record<SourceField, number>>;
  /** How many fields a row must have: the header's own width. */
  readonly width: number;
}

/**
 * Maps a header row to source fields. Unknown columns are allowed and ignored.
 * @throws HeaderError naming every missing required column.
 */
export function resolveHeader(names: readonly string[]): ColumnIndex {
  const positions = Object.fromEntries(SOURCE_FIELDS.map((f) => [f, -1])) as Record<SourceField, number>;
  names.forEach((name, i) => {
    const field = fieldForHeaderName(name);
    if (field && positions[field] === -1) positions[field] = i;
  });
  const missing = REQUIRED_FIELDS.filter((f) => positions[f] === -1);
  if (missing.length > 0) {
    throw new HeaderError(
      `header is missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${names.map((n) => n.trim()).join(', ')})`,
      missing,
    );
  }
  return { positions, width: names.length };
}
