/**
 * The loyalty rule, in one place: the constants the SQL in warehouse/marts/loyalty_points.sql and
 * glue/views/loyalty_points.sql spells out (a test checks the files against them), and what the API and
 * the refresh need to know about a published balance. docs/loyalty.md explains the rule in words.
 *
 * - An invoice earns points when its return period is over: `earned_at = invoice_date + 11 days`.
 * - Its net revenue is the sum of its product lines, less the cancellations of the same customer and
 *   stock code dated within `[invoice_date, earned_at]` that are allocated to it: a cancellation line goes
 *   to the most recent purchase invoice of that customer and stock code it can belong to (latest
 *   invoice_date, then greatest invoice_no).
 * - Points are `floor(net revenue * POINTS_PER_UNIT)`, never negative, per invoice.
 */

/** The return period, in days: an invoice earns its points this long after its invoice date. */
export const RETURN_PERIOD_DAYS = 11;

/** Points per 1.00 of net revenue (the currency of the data, pounds sterling for Online Retail). */
export const POINTS_PER_UNIT = 1;

/**
 * The points of one invoice from its net revenue in thousandths (the contract's exact decimals): floor,
 * never negative.
 * @example pointsForNet(12_999) === 12; pointsForNet(-5_000) === 0
 */
export function pointsForNet(netMilli: number): number {
  if (netMilli <= 0) return 0;
  return Math.floor((netMilli * POINTS_PER_UNIT) / 1000);
}

/** A customer's balance as the refresh publishes it and GET /customers/{id} shows it. */
export interface LoyaltyBalance {
  customer_id: number;
  /** Points of invoices whose return period ended by `as_of`. */
  points: number;
  /** The reference time the balance was computed at (ISO 8601, UTC): the latest invoice time in the data. */
  as_of: string;
}
