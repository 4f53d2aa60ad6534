/**
 * The JSON shapes of the GET routes, computed from stored items. Money is summed in integer thousandths
 * (the contract keeps prices exact to 1/1000), so a total is the exact decimal, never a float sum's drift.
 */
import type { CustomerLineFields } from '../core/dynamo-items.js';
import type { CleanLine } from '../core/schema.js';

/** A decimal exact to thousandths as an integer count of thousandths. */
export function toMilli(value: number): number {
  return Math.round(value * 1000);
}

/** The exact sum of decimals kept to thousandths. */
export function sumExact(values: Iterable<number>): number {
  let milli = 0;
  for (const v of values) milli += toMilli(v);
  return milli / 1000;
}

export interface InvoiceView {
  invoice_no: string;
  customer_id: number | null;
  country: string;
  invoice_date: string;
  is_cancellation: boolean;
  line_count: number;
  total: number;
  lines: CleanLine[];
}

/** An invoice from its lines (at least one). */
export function invoiceView(lines: readonly CleanLine[]): InvoiceView {
  const first = lines[0]!;
  return {
    invoice_no: first.invoice_no,
    customer_id: lines.find((l) => l.customer_id !== null)?.customer_id ?? null,
    country: first.country,
    // ISO dates in UTC sort as text: the earliest is the first.
    invoice_date: lines.map((l) => l.invoice_date).sort()[0]!,
    is_cancellation: first.is_cancellation,
    line_count: lines.length,
    total: sumExact(lines.map((l) => l.line_total)),
    lines: [...lines],
  };
}

/** What a customer's line item holds. */
export type CustomerLine = CustomerLineFields;

/**
 * The customer's loyalty balance as the last refresh published it (docs/loyalty.md): points 0 and as_of
 * null when no refresh has published one (a new customer, or before the first refresh).
 */
export interface LoyaltyView {
  points: number;
  as_of: string | null;
}

export interface CustomerView {
  customer_id: number;
  country: string;
  first_invoice_date: string;
  last_invoice_date: string;
  invoice_count: number;
  total_spent: number;
  loyalty: LoyaltyView;
}

/** The loyalty part of a customer's view, from their balance item if there is one. */
export function loyaltyView(item: { points?: unknown; as_of?: unknown } | undefined): LoyaltyView {
  if (!item) return { points: 0, as_of: null };
  return { points: Number(item.points ?? 0), as_of: typeof item.as_of === 'string' ? item.as_of : null };
}

/**
 * A customer's summary from all their lines (at least one). `country` is that of the latest invoice (a few
 * customers appear under two countries); `total_spent` is net of cancellations.
 */
export function customerView(
  customerId: number,
  lines: readonly CustomerLine[],
  loyalty: LoyaltyView = loyaltyView(undefined),
): CustomerView {
  let first = lines[0]!;
  let last = first;
  for (const l of lines) {
    if (l.invoice_date < first.invoice_date) first = l;
    if (l.invoice_date > last.invoice_date) last = l;
  }
  return {
    customer_id: customerId,
    country: last.country,
    first_invoice_date: first.invoice_date,
    last_invoice_date: last.invoice_date,
    invoice_count: new Set(lines.map((l) => l.invoice_no)).size,
    total_spent: sumExact(lines.map((l) => l.line_total)),
    loyalty,
  };
}

export interface CustomerInvoiceView {
  invoice_no: string;
  invoice_date: string;
  country: string;
  is_cancellation: boolean;
  line_count: number;
  total: number;
}

/** One invoice of a customer from its lines on the customers table. */
export function customerInvoiceView(lines: readonly CustomerLine[]): CustomerInvoiceView {
  const first = lines[0]!;
  return {
    invoice_no: first.invoice_no,
    invoice_date: first.invoice_date,
    country: first.country,
    is_cancellation: first.is_cancellation,
    line_count: lines.length,
    total: sumExact(lines.map((l) => l.line_total)),
  };
}

export interface StockInvoiceView {
  invoice_no: string;
  invoice_date: string;
  customer_id: number | null;
  country: string;
}
