/**
 * INTERIM, for the dashboard's browser test and bench only: writes the dashboard snapshot from the local
 * warehouse, as the refresh will once the snapshot writer (`buildDashboardSnapshot`, branch `live`) has
 * landed. At merge, replace every call of `writeInterimDashboardSnapshot` by the real refresh (the stack
 * writes the snapshot itself after each refresh) and delete this file.
 *
 * It reads the marts the snapshot is made of where they exist (marts.daily_country_revenue,
 * marts.product_country_sales, marts.cancellations.product_lines), and otherwise the same grouping of
 * staging.invoice_lines those marts are defined by (product lines only, net of cancellations).
 */
import pg from 'pg';
import { createS3Client } from '../../src/adapters/s3.js';
import { writeJson } from '../../src/adapters/s3-objects.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import {
  DASHBOARD_SNAPSHOT_KEY,
  DASHBOARD_SNAPSHOT_VERSION,
  type DashboardSnapshot,
} from '../../src/dashboard/contract.js';
import type { StackInfo } from '../../src/local/stack.js';

const DAILY_FROM_STAGING = `
  SELECT CAST(invoice_date AS DATE) AS day, country, COUNT(DISTINCT invoice_no) AS invoices, COUNT(*) AS lines,
         SUM(quantity) AS units, SUM(line_total) AS revenue
  FROM staging.invoice_lines WHERE NOT is_adjustment GROUP BY 1, 2`;
const PRODUCTS_FROM_STAGING = `
  SELECT sold.month, sold.country, sold.stock_code, d.description, sold.units, sold.revenue
  FROM (
    SELECT CAST(DATE_TRUNC('month', invoice_date) AS DATE) AS month, country, stock_code,
           SUM(quantity) AS units, SUM(line_total) AS revenue
    FROM staging.invoice_lines WHERE NOT is_adjustment GROUP BY 1, 2, 3
  ) sold LEFT JOIN staging.product_descriptions d ON d.stock_code = sold.stock_code`;
const CANCELLATIONS_FROM_STAGING = `
  SELECT CAST(DATE_TRUNC('month', invoice_date) AS DATE) AS month, country,
         COUNT(CASE WHEN is_cancellation THEN 1 END) AS cancelled_lines,
         -SUM(CASE WHEN is_cancellation THEN line_total ELSE 0 END) AS cancelled_value,
         COUNT(*) AS product_lines
  FROM staging.invoice_lines WHERE NOT is_adjustment GROUP BY 1, 2`;

/** Builds the snapshot from the warehouse at `warehouseUrl`. */
export async function interimDashboardSnapshot(warehouseUrl: string): Promise<DashboardSnapshot> {
  const client = new pg.Client({ connectionString: warehouseUrl });
  // DATE and TIMESTAMP (UTC, without a zone) as text, not as Dates in the process's time zone.
  client.setTypeParser(1082, (v: string) => v);
  client.setTypeParser(1114, (v: string) => v);
  await client.connect();
  try {
    const rows = async (sql: string) => (await client.query(sql)).rows as Record<string, unknown>[];
    const exists = async (sql: string) => (await rows(sql)).length > 0;
    const hasDailyCountry = await exists(
      "SELECT 1 FROM pg_tables WHERE schemaname = 'marts' AND tablename = 'daily_country_revenue'",
    );
    const hasProductCountry = await exists(
      "SELECT 1 FROM pg_tables WHERE schemaname = 'marts' AND tablename = 'product_country_sales'",
    );
    const hasProductLines = await exists(
      "SELECT 1 FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = 'cancellations' AND column_name = 'product_lines'",
    );
    const [counts] = await rows(`
      SELECT (SELECT COUNT(*) FROM "raw".invoice_lines) AS raw_lines,
             (SELECT COUNT(*) FROM staging.invoice_lines) AS staging_lines,
             (SELECT MAX(invoice_date) FROM staging.invoice_lines) AS newest`);
    const num = (v: unknown) => Number(v);
    return {
      version: DASHBOARD_SNAPSHOT_VERSION,
      refreshedAt: new Date().toISOString(),
      warehouse: {
        rawLines: num(counts!['raw_lines']),
        stagingLines: num(counts!['staging_lines']),
        newestInvoiceAt: counts!['newest']
          ? new Date(`${String(counts!['newest']).replace(' ', 'T')}Z`).toISOString()
          : null,
        // raw.invoice_lines keeps no load time: the real snapshot writer knows when it delivered.
        lastDeliveryAt: null,
      },
      dailyCountryRevenue: (
        await rows(hasDailyCountry ? 'SELECT * FROM marts.daily_country_revenue' : DAILY_FROM_STAGING)
      ).map((r) => ({
        day: String(r['day']),
        country: String(r['country']),
        invoices: num(r['invoices']),
        lines: num(r['lines']),
        units: num(r['units']),
        revenue: num(r['revenue']),
      })),
      productCountrySales: (
        await rows(hasProductCountry ? 'SELECT * FROM marts.product_country_sales' : PRODUCTS_FROM_STAGING)
      ).map((r) => ({
        month: String(r['month']),
        country: String(r['country']),
        stock_code: String(r['stock_code']),
        description: r['description'] === null ? null : String(r['description']),
        units: num(r['units']),
        revenue: num(r['revenue']),
      })),
      monthlyCountryRevenue: (await rows('SELECT * FROM marts.monthly_country_revenue')).map((r) => ({
        month: String(r['month']),
        country: String(r['country']),
        invoices: num(r['invoices']),
        customers: num(r['customers']),
        revenue: num(r['revenue']),
      })),
      cancellations: (
        await rows(
          hasProductLines
            ? 'SELECT month, country, cancelled_lines, cancelled_value, product_lines FROM marts.cancellations'
            : CANCELLATIONS_FROM_STAGING,
        )
      ).map((r) => ({
        month: String(r['month']),
        country: String(r['country']),
        cancelled_lines: num(r['cancelled_lines']),
        cancelled_value: num(r['cancelled_value']),
        product_lines: num(r['product_lines']),
      })),
      rfmSegments: (
        await rows(
          'SELECT segment, country, COUNT(*) AS customers, SUM(monetary) AS monetary FROM marts.customer_rfm GROUP BY 1, 2',
        )
      ).map((r) => ({
        segment: String(r['segment']),
        country: String(r['country']),
        customers: num(r['customers']),
        monetary: num(r['monetary']),
      })),
    };
  } finally {
    await client.end();
  }
}

/** Builds the snapshot from the running stack's warehouse and writes it where GET /dashboard/data reads it. */
export async function writeInterimDashboardSnapshot(info: StackInfo): Promise<DashboardSnapshot> {
  const snapshot = await interimDashboardSnapshot(info.warehouseUrl);
  const s3 = createS3Client({ region: LOCAL_RESOURCES.region, endpoints: { s3: info.endpoints.s3 } });
  try {
    await writeJson(s3, LOCAL_RESOURCES.rawBucket, DASHBOARD_SNAPSHOT_KEY, snapshot);
  } finally {
    s3.destroy();
  }
  return snapshot;
}
