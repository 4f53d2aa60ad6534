/**
 * The marts on the real data (541,909 rows of the UCI Online Retail export): the warehouse marts and the
 * Athena views on the lake agree on every row, and both agree with figures computed here, in JavaScript,
 * straight from the cleaned lines. Then: duplicates delivered again and a second refresh change nothing.
 */
import { join } from 'node:path';
import { findSqlRoot, loadLakeQueries, MARTS, type Mart } from '../../src/analytics/models.js';
import type { CleanLine } from '../../src/core/schema.js';
import { buildDashboardSnapshot } from '../../src/dashboard/snapshot.js';
import type { LocalLake } from '../../src/local/lake.js';
import {
  type AnalyticsBench,
  bindParameters,
  cleanLines,
  decimalText,
  lakeRows,
  milli,
  openLakeWithViews,
  refresh,
  rowDifferences,
  snapshotLake,
  snapshotWarehouse,
  startAnalyticsBench,
  warehouseRows,
  writeLake,
} from '../helpers/analytics.js';
import { describeWithRealData, REAL_DATA } from '../helpers/real-data.js';

/** Figures computed from the cleaned lines alone, with exact integer thousandths. */
interface Figures {
  ukRevenue: number;
  top: { stock_code: string; units: number; revenue: number; description: string };
  dailyRevenue: Map<string, { invoices: number; lines: number; units: number; revenue: number }>;
  /** Keyed `day|country`. */
  dailyCountryRevenue: Map<string, { invoices: number; lines: number; units: number; revenue: number }>;
  customer: { id: number; monetary: number; frequency: number; recency: number; lines: number };
  lastDay: string;
}

const CUSTOMER = 17850;

/** The latest of ISO instants (they sort as text). */
function latest(instants: readonly string[]): string {
  let max = '';
  for (const instant of instants) if (instant > max) max = instant;
  return max;
}

function computeFigures(lines: readonly CleanLine[]): Figures {
  const products = lines.filter((l) => !l.is_adjustment);
  const ukRevenue = products
    .filter((l) => l.country === 'United Kingdom')
    .reduce((sum, l) => sum + milli(l.line_total), 0);

  const byCode = new Map<string, { units: number; revenue: number; names: Map<string, [number, string]> }>();
  for (const l of products) {
    const c = byCode.get(l.stock_code) ?? {
      units: 0,
      revenue: 0,
      names: new Map<string, [number, string]>(),
    };
    byCode.set(l.stock_code, c);
    c.units += l.quantity;
    c.revenue += milli(l.line_total);
    if (l.description !== null) {
      const [uses, last] = c.names.get(l.description) ?? [0, ''];
      c.names.set(l.description, [uses + 1, latest([last, l.invoice_date])]);
    }
  }
  const [topCode, topTotals] = [...byCode].sort(
    (a, b) => b[1].revenue - a[1].revenue || (a[0] < b[0] ? -1 : 1),
  )[0]!;
  const [topName] = [...topTotals.names].sort(
    (a, b) => b[1][0] - a[1][0] || (a[1][1] < b[1][1] ? 1 : -1) || (a[0] < b[0] ? -1 : 1),
  )[0]!;

  const days = new Map<string, { invoices: Set<string>; lines: number; units: number; revenue: number }>();
  for (const l of products) {
    const day = l.invoice_date.slice(0, 10);
    const d = days.get(day) ?? { invoices: new Set<string>(), lines: 0, units: 0, revenue: 0 };
    days.set(day, d);
    d.invoices.add(l.invoice_no);
    d.lines++;
    d.units += l.quantity;
    d.revenue += milli(l.line_total);
  }
  const dailyRevenue = new Map([...days].map(([day, d]) => [day, { ...d, invoices: d.invoices.size }]));
  const dayCountries = new Map<
    string,
    { invoices: Set<string>; lines: number; units: number; revenue: number }
  >();
  for (const l of products) {
    const key = `${l.invoice_date.slice(0, 10)}|${l.country}`;
    const d = dayCountries.get(key) ?? { invoices: new Set<string>(), lines: 0, units: 0, revenue: 0 };
    dayCountries.set(key, d);
    d.invoices.add(l.invoice_no);
    d.lines++;
    d.units += l.quantity;
    d.revenue += milli(l.line_total);
  }
  const dailyCountryRevenue = new Map(
    [...dayCountries].map(([key, d]) => [key, { ...d, invoices: d.invoices.size }]),
  );

  const mine = products.filter((l) => l.customer_id === CUSTOMER);
  const purchases = mine.filter((l) => !l.is_cancellation);
  const lastDay = latest(lines.map((l) => l.invoice_date)).slice(0, 10);
  const lastPurchase = latest(purchases.map((l) => l.invoice_date));
  const dayMs = (iso: string) => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);
  return {
    ukRevenue,
    top: { stock_code: topCode, units: topTotals.units, revenue: topTotals.revenue, description: topName },
    dailyRevenue,
    dailyCountryRevenue,
    customer: {
      id: CUSTOMER,
      monetary: mine.reduce((sum, l) => sum + milli(l.line_total), 0),
      frequency: new Set(purchases.map((l) => l.invoice_no)).size,
      recency: (dayMs(lastDay) - dayMs(lastPurchase)) / 86_400_000 + 1,
      lines: lines.filter((l) => l.customer_id === CUSTOMER).length,
    },
    lastDay,
  };
}

describeWithRealData('marts on the real data', () => {
  let bench: AnalyticsBench;
  let lines: CleanLine[];
  let lake: LocalLake;
  let figures: Figures;

  beforeAll(async () => {
    bench = await startAnalyticsBench();
    lines = await cleanLines(REAL_DATA);
    figures = computeFigures(lines);
    await bench.warehouse.mergeLines(lines);
    await writeLake(bench.lakeDir, lines);
    await refresh(bench.warehouse);
    lake = await openLakeWithViews(bench.lakeGlob);
  }, 300_000);

  afterAll(async () => {
    lake?.close();
    await bench?.stop();
  });

  async function one<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T> {
    const [row] = await bench.warehouse.query<T>(sql, params);
    return row!;
  }

  it('stages exactly the 536,641 distinct lines', async () => {
    // Act
    const staged = await one<{ n: string }>('SELECT COUNT(*) AS n FROM staging.invoice_lines');
    // Assess
    expect(lines).toHaveLength(536_641);
    expect(Number(staged.n)).toBe(536_641);
  });

  it.each(MARTS)(
    '%s: the warehouse mart and the lake view hold the same rows',
    async (mart: Mart) => {
      // Act
      const inWarehouse = await warehouseRows(bench.warehouse, mart);
      const inLake = await lakeRows(lake, mart);
      // Assess
      expect(inWarehouse.length).toBeGreaterThan(0);
      expect(rowDifferences(inWarehouse, inLake)).toEqual({ onlyLeft: [], onlyRight: [] });
      expect(inLake).toHaveLength(inWarehouse.length);
    },
    60_000,
  );

  it('gives the net product revenue of the United Kingdom computed from the lines', async () => {
    // Act
    const uk = await one<{ revenue: string }>(
      "SELECT CAST(SUM(revenue) AS VARCHAR) AS revenue FROM marts.monthly_country_revenue WHERE country = 'United Kingdom'",
    );
    const [lakeUk] = await lake.query(
      "SELECT CAST(SUM(revenue) AS VARCHAR) AS revenue FROM monthly_country_revenue WHERE country = 'United Kingdom'",
    );
    // Assess
    console.log(`United Kingdom net product revenue: ${decimalText(figures.ukRevenue)}`);
    expect(uk.revenue).toBe(decimalText(figures.ukRevenue));
    expect(lakeUk!['revenue']).toBe(decimalText(figures.ukRevenue));
  });

  it('ranks first the product with the highest net revenue, named by its most frequent description', async () => {
    // Act
    const top = await one<Record<string, string>>(
      'SELECT stock_code, description, CAST(units AS VARCHAR) AS units, CAST(revenue AS VARCHAR) AS revenue FROM marts.top_products WHERE rank = 1',
    );
    const count = await one<{ n: string }>('SELECT COUNT(*) AS n FROM marts.top_products');
    // Assess
    console.log(`top product: ${JSON.stringify(top)}`);
    expect(top).toEqual({
      stock_code: figures.top.stock_code,
      description: figures.top.description,
      units: String(figures.top.units),
      revenue: decimalText(figures.top.revenue),
    });
    expect(Number(count.n)).toBe(15);
  });

  it('gives every day the revenue, lines, units and invoices computed from the lines', async () => {
    // Act
    const rows = await bench.warehouse.query<{ day: string } & Record<string, string>>(
      'SELECT CAST(day AS VARCHAR) AS day, invoices, lines, units, CAST(revenue AS VARCHAR) AS revenue FROM marts.daily_revenue',
    );
    // Assess
    const expected = [...figures.dailyRevenue].map(([day, d]) => ({
      day,
      invoices: String(d.invoices),
      lines: String(d.lines),
      units: String(d.units),
      revenue: decimalText(d.revenue),
    }));
    const byDay = (a: { day: string }, b: { day: string }) => (a.day < b.day ? -1 : 1);
    expect(rows.sort(byDay)).toEqual(expected.sort(byDay));
    const lastDay = figures.dailyRevenue.get(figures.lastDay)!;
    console.log(`revenue on ${figures.lastDay}: ${decimalText(lastDay.revenue)} (${rows.length} days)`);
  });

  it('gives every day and country the revenue, lines, units and invoices computed from the lines', async () => {
    // Act
    const rows = await bench.warehouse.query<{ day: string; country: string } & Record<string, string>>(
      'SELECT CAST(day AS VARCHAR) AS day, country, invoices, lines, units, CAST(revenue AS VARCHAR) AS revenue FROM marts.daily_country_revenue',
    );
    // Assess
    const expected = [...figures.dailyCountryRevenue].map(([key, d]) => {
      const [day, country] = key.split('|') as [string, string];
      return {
        day,
        country,
        invoices: String(d.invoices),
        lines: String(d.lines),
        units: String(d.units),
        revenue: decimalText(d.revenue),
      };
    });
    const byKey = (a: { day: string; country: string }, b: { day: string; country: string }) =>
      `${a.day}|${a.country}` < `${b.day}|${b.country}` ? -1 : 1;
    expect(rows.sort(byKey)).toEqual(expected.sort(byKey));
  });

  it('splits daily_revenue and product_sales by country exactly: the country marts sum to them', async () => {
    // Act: each national row against the sum of its country rows; any row that differs is listed.
    const days = await bench.warehouse.query(
      `SELECT CAST(d.day AS VARCHAR) AS day
       FROM marts.daily_revenue d
       LEFT JOIN (
         SELECT day, SUM(invoices) AS invoices, SUM(lines) AS lines, SUM(units) AS units, SUM(revenue) AS revenue
         FROM marts.daily_country_revenue GROUP BY day
       ) c ON c.day = d.day
       WHERE c.day IS NULL OR c.invoices <> d.invoices OR c.lines <> d.lines OR c.units <> d.units
         OR c.revenue <> d.revenue`,
    );
    const products = await bench.warehouse.query(
      `SELECT CAST(p.month AS VARCHAR) AS month, p.stock_code
       FROM marts.product_sales p
       LEFT JOIN (
         SELECT month, stock_code, MIN(description) AS description, MAX(description) AS most,
           SUM(units) AS units, SUM(revenue) AS revenue
         FROM marts.product_country_sales GROUP BY month, stock_code
       ) c ON c.month = p.month AND c.stock_code = p.stock_code
       WHERE c.month IS NULL OR c.units <> p.units OR c.revenue <> p.revenue
         OR c.description IS DISTINCT FROM p.description OR c.most IS DISTINCT FROM p.description`,
    );
    const counts = await one<{ national: string; split: string }>(
      `SELECT (SELECT COUNT(*) FROM marts.product_sales) AS national,
         (SELECT COUNT(DISTINCT CAST(month AS VARCHAR) || '|' || stock_code) FROM marts.product_country_sales) AS split`,
    );
    // Assess
    expect(days).toEqual([]);
    expect(products).toEqual([]);
    expect(counts.split).toBe(counts.national);
  });

  it('keeps the product lines cancellations rates are taken over, so rates over several rows sum exactly', async () => {
    // Act
    const months = await bench.warehouse.query<{ month: string; lines: string; product_lines: string }>(
      `SELECT CAST(d.month AS VARCHAR) AS month, d.lines, c.product_lines
       FROM (
         SELECT CAST(DATE_TRUNC('month', day) AS DATE) AS month, SUM(lines) AS lines
         FROM marts.daily_revenue GROUP BY CAST(DATE_TRUNC('month', day) AS DATE)
       ) d
       LEFT JOIN (SELECT month, SUM(product_lines) AS product_lines FROM marts.cancellations GROUP BY month) c
         ON c.month = d.month
       ORDER BY d.month`,
    );
    const off = await bench.warehouse.query(
      'SELECT month, country FROM marts.cancellations WHERE cancellation_rate <> CAST(cancelled_lines AS DOUBLE PRECISION) / product_lines',
    );
    // Assess
    expect(months.length).toBeGreaterThan(12);
    for (const m of months) expect([m.month, m.product_lines]).toEqual([m.month, m.lines]);
    expect(off).toEqual([]);
  });

  it('builds the dashboard snapshot from the marts: the figures of the lines, at the filters grain', async () => {
    // Act
    const snapshot = await buildDashboardSnapshot((sql) => bench.warehouse.query(sql), new Date());
    // Assess
    const bytes = Buffer.byteLength(JSON.stringify(snapshot));
    console.log(
      `dashboard snapshot: ${bytes} bytes, ${snapshot.dailyCountryRevenue.length} day x country rows, ` +
        `${snapshot.productCountrySales.length} month x country x product rows`,
    );
    const uk = snapshot.dailyCountryRevenue
      .filter((r) => r.country === 'United Kingdom')
      .reduce((sum, r) => sum + milli(r.revenue), 0);
    expect(decimalText(uk)).toBe(decimalText(figures.ukRevenue));
    const top = snapshot.productCountrySales.filter((r) => r.stock_code === figures.top.stock_code);
    expect(top.reduce((sum, r) => sum + r.units, 0)).toBe(figures.top.units);
    expect(decimalText(top.reduce((sum, r) => sum + milli(r.revenue), 0))).toBe(
      decimalText(figures.top.revenue),
    );
    expect(snapshot.warehouse).toMatchObject({ rawLines: 536_641, stagingLines: 536_641 });
    expect(snapshot.warehouse.newestInvoiceAt).toBe(
      `${latest(lines.map((l) => l.invoice_date)).slice(0, 19)}Z`,
    );
    const customers = await one<{ n: string }>('SELECT COUNT(*) AS n FROM marts.customer_rfm');
    expect(snapshot.rfmSegments.reduce((sum, r) => sum + r.customers, 0)).toBe(Number(customers.n));
  });

  it(`gives customer ${CUSTOMER} the monetary value, frequency and recency computed from the lines`, async () => {
    // Act
    const rfm = await one<Record<string, string>>(
      'SELECT CAST(monetary AS VARCHAR) AS monetary, frequency, recency_days, segment FROM marts.customer_rfm WHERE customer_id = $1',
      [CUSTOMER],
    );
    // Assess
    console.log(`customer ${CUSTOMER}: ${JSON.stringify(rfm)}`);
    expect(rfm.monetary).toBe(decimalText(figures.customer.monetary));
    expect(Number(rfm.frequency)).toBe(figures.customer.frequency);
    expect(Number(rfm.recency_days)).toBe(figures.customer.recency);
  });

  it('answers the named queries on the lake with the figures of the marts and of the lines', async () => {
    // Prepare
    const queries = Object.fromEntries((await loadLakeQueries(findSqlRoot())).map((q) => [q.name, q.sql]));
    const [y, m, d] = figures.lastDay.split('-') as [string, string, string];
    // Act
    const lastMonth = await lake.query(queries['last_month_unit_sales_by_product']!);
    const byCountry = await lake.query(queries['revenue_by_country']!);
    const history = await lake.query(bindParameters(queries['customer_history']!, [CUSTOMER]));
    const [day] = await lake.query(bindParameters(queries['lines_on_a_day']!, [y, m, d]));
    const segments = await lake.query(queries['customers_by_segment']!);
    // Assess
    const november = await bench.warehouse.query(
      "SELECT stock_code, units FROM marts.product_sales WHERE month = DATE '2011-11-01' ORDER BY units DESC, stock_code",
    );
    expect(lastMonth.map((r) => [r['stock_code'], String(r['units'])])).toEqual(
      november.map((r) => [r['stock_code'], String(r['units'])]),
    );
    expect(byCountry[0]).toMatchObject({
      country: 'United Kingdom',
      revenue: decimalText(figures.ukRevenue),
    });
    expect(history).toHaveLength(figures.customer.lines);
    expect(day).toMatchObject({ revenue: decimalText(figures.dailyRevenue.get(figures.lastDay)!.revenue) });
    const customers = await one<{ n: string }>('SELECT COUNT(*) AS n FROM marts.customer_rfm');
    expect(segments.reduce((sum, s) => sum + Number(s['customers']), 0)).toBe(Number(customers.n));
  });

  it('changes no mart when a refresh runs again', async () => {
    // Prepare
    const before = await snapshotWarehouse(bench.warehouse);
    // Act
    await refresh(bench.warehouse);
    // Assess
    expect(await snapshotWarehouse(bench.warehouse)).toEqual(before);
  }, 120_000);

  it('changes no mart and no view when 50,000 lines are delivered a second time', async () => {
    // Prepare: the same lines again, appended to raw and written as a second file per partition.
    const before = await snapshotWarehouse(bench.warehouse);
    const lakeBefore = await snapshotLake(lake);
    const again = lines.slice(100_000, 150_000);
    await bench.warehouse.copyLines('raw.invoice_lines', again);
    await writeLake(join(bench.lakeDir), again, 'part-again.parquet');
    // Act
    await refresh(bench.warehouse);
    // Assess
    const raw = await one<{ n: string }>('SELECT COUNT(*) AS n FROM raw.invoice_lines');
    expect(Number(raw.n)).toBe(536_641 + 50_000);
    expect(await snapshotWarehouse(bench.warehouse)).toEqual(before);
    expect(await snapshotLake(lake)).toEqual(lakeBefore);
  }, 180_000);
});
