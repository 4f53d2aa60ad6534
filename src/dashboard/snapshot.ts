import type { S3Client } from '@aws-sdk/client-s3';
import { readJson, writeObject } from '../adapters/s3-objects.js';
import { ANALYTICS_ERROR_CODES, AnalyticsError } from '../analytics/errors.js';
import {
  type CancellationsRow,
  DASHBOARD_SNAPSHOT_KEY,
  DASHBOARD_SNAPSHOT_VERSION,
  type DailyCountryRevenueRow,
  type DashboardSnapshot,
  type MonthlyCountryRevenueRow,
  type ProductCountrySalesRow,
  type RfmSegmentRow,
  type WarehouseCounts,
} from './contract.js';

/**
 * The dashboard's snapshot, built from the marts after a refresh (src/dashboard/contract.ts has the
 * shape): the same queries on the local PostgreSQL and on Redshift (through the Data API's queryRows),
 * every figure read from a mart or a count, nothing recomputed from the lines.
 */

/** Runs one query on the warehouse and returns its rows (the Data API's queryRows, or PgWarehouse.query). */
export type SnapshotQuery = (sql: string) => Promise<readonly Record<string, unknown>[]>;

/**
 * The snapshot's queries, in PostgreSQL and Redshift alike. Days, months and timestamps are cast to
 * VARCHAR by the engine (`2011-12-09`, `2011-12-09 12:50:00` on both), so no driver's date handling or
 * time zone is involved; every list is ordered, so the same marts give the same snapshot bytes.
 */
export const SNAPSHOT_QUERIES = {
  /** raw is quoted: RAW is a reserved word in Redshift (warehouse/raw/invoice_lines.sql). */
  warehouse: `SELECT
  (SELECT COUNT(*) FROM "raw".invoice_lines) AS raw_lines,
  (SELECT COUNT(*) FROM staging.invoice_lines) AS staging_lines,
  (SELECT CAST(MAX(invoice_date) AS VARCHAR) FROM staging.invoice_lines) AS newest_invoice_at`,
  dailyCountryRevenue: `SELECT CAST(day AS VARCHAR) AS day, country, invoices, lines, units, revenue
FROM marts.daily_country_revenue ORDER BY day, country`,
  productCountrySales: `SELECT CAST(month AS VARCHAR) AS month, country, stock_code, description, units, revenue
FROM marts.product_country_sales ORDER BY month, country, stock_code`,
  monthlyCountryRevenue: `SELECT CAST(month AS VARCHAR) AS month, country, invoices, customers, revenue
FROM marts.monthly_country_revenue ORDER BY month, country`,
  cancellations: `SELECT CAST(month AS VARCHAR) AS month, country, cancelled_lines, cancelled_value, product_lines
FROM marts.cancellations ORDER BY month, country`,
  rfmSegments: `SELECT segment, country, COUNT(*) AS customers, SUM(monetary) AS monetary
FROM marts.customer_rfm GROUP BY segment, country ORDER BY segment, country`,
} as const;

/** A count or amount as the drivers give it (BIGINT and DECIMAL come as strings) as a number. */
function numberOf(row: Record<string, unknown>, column: string, query: string): number {
  const value = row[column];
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) {
    throw new AnalyticsError(
      ANALYTICS_ERROR_CODES.snapshot_row_invalid,
      `dashboard snapshot (${query}): ${column} ${JSON.stringify(value)} is not a number`,
    );
  }
  return n;
}

function textOf(row: Record<string, unknown>, column: string, query: string): string {
  const value = row[column];
  if (typeof value !== 'string') {
    throw new AnalyticsError(
      ANALYTICS_ERROR_CODES.snapshot_row_invalid,
      `dashboard snapshot (${query}): ${column} ${JSON.stringify(value)} is not text`,
    );
  }
  return value;
}

/** A warehouse TIMESTAMP cast to text (`2011-12-09 12:50:00`) as ISO 8601 UTC, `2011-12-09T12:50:00Z`. */
export function timestampText(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text);
  if (!match) {
    throw new AnalyticsError(
      ANALYTICS_ERROR_CODES.snapshot_row_invalid,
      `dashboard snapshot: "${text}" is not a timestamp`,
    );
  }
  return `${match[1]}T${match[2]}Z`;
}

/**
 * The last delivery into raw. raw has no load-time column (its columns are the record contract) and the
 * portable SQL may not read the clock (warehouse/README.md), so the time is the refresh's: a refresh that
 * finds raw grown since the previous snapshot dates the delivery to itself; otherwise the previous
 * snapshot's date stands. It is late by at most one refresh interval.
 */
export function lastDeliveryAt(
  rawLines: number,
  refreshedAt: string,
  previous: DashboardSnapshot | null | undefined,
): string | null {
  if (rawLines === 0) return null;
  const before = previous?.warehouse;
  if (before && before.rawLines === rawLines && before.lastDeliveryAt) return before.lastDeliveryAt;
  return refreshedAt;
}

/**
 * Reads the marts and the warehouse's counts into a snapshot. `previous` (the snapshot the last refresh
 * wrote, if any) only carries the last delivery's time forward (see lastDeliveryAt).
 *
 * @throws AnalyticsError (snapshot_row_invalid) naming the column when a value is not what the mart holds
 * @example await buildDashboardSnapshot((sql) => warehouse.query(sql), new Date())
 */
export async function buildDashboardSnapshot(
  query: SnapshotQuery,
  refreshedAt: Date,
  previous?: DashboardSnapshot | null,
): Promise<DashboardSnapshot> {
  const q = SNAPSHOT_QUERIES;
  const at = refreshedAt.toISOString();
  const [counts] = await query(q.warehouse);
  const rawLines = numberOf(counts ?? {}, 'raw_lines', 'warehouse');
  const newest = counts?.['newest_invoice_at'];
  const warehouse: WarehouseCounts = {
    rawLines,
    stagingLines: numberOf(counts ?? {}, 'staging_lines', 'warehouse'),
    newestInvoiceAt: typeof newest === 'string' ? timestampText(newest) : null,
    lastDeliveryAt: lastDeliveryAt(rawLines, at, previous),
  };
  const dailyCountryRevenue = (await query(q.dailyCountryRevenue)).map(
    (r): DailyCountryRevenueRow => ({
      day: textOf(r, 'day', 'daily_country_revenue'),
      country: textOf(r, 'country', 'daily_country_revenue'),
      invoices: numberOf(r, 'invoices', 'daily_country_revenue'),
      lines: numberOf(r, 'lines', 'daily_country_revenue'),
      units: numberOf(r, 'units', 'daily_country_revenue'),
      revenue: numberOf(r, 'revenue', 'daily_country_revenue'),
    }),
  );
  const productCountrySales = (await query(q.productCountrySales)).map(
    (r): ProductCountrySalesRow => ({
      month: textOf(r, 'month', 'product_country_sales'),
      country: textOf(r, 'country', 'product_country_sales'),
      stock_code: textOf(r, 'stock_code', 'product_country_sales'),
      description: r['description'] === null ? null : textOf(r, 'description', 'product_country_sales'),
      units: numberOf(r, 'units', 'product_country_sales'),
      revenue: numberOf(r, 'revenue', 'product_country_sales'),
    }),
  );
  const monthlyCountryRevenue = (await query(q.monthlyCountryRevenue)).map(
    (r): MonthlyCountryRevenueRow => ({
      month: textOf(r, 'month', 'monthly_country_revenue'),
      country: textOf(r, 'country', 'monthly_country_revenue'),
      invoices: numberOf(r, 'invoices', 'monthly_country_revenue'),
      customers: numberOf(r, 'customers', 'monthly_country_revenue'),
      revenue: numberOf(r, 'revenue', 'monthly_country_revenue'),
    }),
  );
  const cancellations = (await query(q.cancellations)).map(
    (r): CancellationsRow => ({
      month: textOf(r, 'month', 'cancellations'),
      country: textOf(r, 'country', 'cancellations'),
      cancelled_lines: numberOf(r, 'cancelled_lines', 'cancellations'),
      cancelled_value: numberOf(r, 'cancelled_value', 'cancellations'),
      product_lines: numberOf(r, 'product_lines', 'cancellations'),
    }),
  );
  const rfmSegments = (await query(q.rfmSegments)).map(
    (r): RfmSegmentRow => ({
      segment: textOf(r, 'segment', 'customer_rfm'),
      country: textOf(r, 'country', 'customer_rfm'),
      customers: numberOf(r, 'customers', 'customer_rfm'),
      monetary: numberOf(r, 'monetary', 'customer_rfm'),
    }),
  );
  return {
    version: DASHBOARD_SNAPSHOT_VERSION,
    refreshedAt: at,
    warehouse,
    dailyCountryRevenue,
    productCountrySales,
    monthlyCountryRevenue,
    cancellations,
    rfmSegments,
  };
}

/**
 * Writes the snapshot to `bucket` at DASHBOARD_SNAPSHOT_KEY: the bucket the audit result is kept in, read
 * by the API (its `auditBucket`). A single PUT replaces the object whole, so a reader sees the old
 * snapshot or the new one, never a mix. Compact JSON, not writeJson's indented form: the product rows of
 * the real data are tens of thousands, and indentation would double the bytes every dashboard read fetches.
 */
export async function writeDashboardSnapshot(
  s3: S3Client,
  bucket: string,
  snapshot: DashboardSnapshot,
): Promise<void> {
  await writeObject(s3, bucket, DASHBOARD_SNAPSHOT_KEY, JSON.stringify(snapshot), 'application/json');
}

/**
 * The snapshot at DASHBOARD_SNAPSHOT_KEY, or null when none was written yet or it is of another version
 * (an older release's shape is not read as this one's).
 */
export async function readDashboardSnapshot(s3: S3Client, bucket: string): Promise<DashboardSnapshot | null> {
  const snapshot = await readJson<DashboardSnapshot>(s3, bucket, DASHBOARD_SNAPSHOT_KEY);
  return snapshot?.version === DASHBOARD_SNAPSHOT_VERSION ? snapshot : null;
}
