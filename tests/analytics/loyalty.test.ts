/**
 * The loyalty rule on both engines over a handful of hand-made lines: which cancellations lower an
 * invoice's points (same customer and stock code, dated within the return period, allocated to the most
 * recent purchase), which do not (after the period, another stock code), the rounding, the pending
 * invoices at the end of the data, and a late cancellation restating points already earned. Every step
 * checks that the warehouse marts and the Athena views hold the same rows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { findSqlRoot } from '../../src/analytics/models.js';
import { POINTS_PER_UNIT, RETURN_PERIOD_DAYS } from '../../src/core/loyalty.js';
import type { CleanLine } from '../../src/core/schema.js';
import type { LocalLake } from '../../src/local/lake.js';
import {
  type AnalyticsBench,
  lakeRows,
  openLakeWithViews,
  refresh,
  rowDifferences,
  startAnalyticsBench,
  warehouseRows,
  writeLake,
} from '../helpers/analytics.js';
import { aCleanLine } from '../helpers/lines.js';

jest.setTimeout(120_000);

let next = 0;

/** A product line of a known customer; a negative quantity makes it a cancellation (a C-invoice). */
function line(customer: number, invoice: string, at: string, stock: string, quantity: number, price: number) {
  next++;
  return aCleanLine({
    line_id: next.toString(16).padStart(32, '0'),
    invoice_no: invoice,
    stock_code: stock,
    quantity,
    unit_price: price,
    line_total: Math.round(quantity * price * 1000) / 1000,
    invoice_date: at,
    customer_id: customer,
    is_cancellation: invoice.startsWith('C'),
  });
}

/** The usual purchase: 10 x A at 2.50 and 3 x B at 1.10, 28.30 in all, so 28 points. */
function purchase(customer: number, invoice: string, at: string): CleanLine[] {
  return [line(customer, invoice, at, 'A', 10, 2.5), line(customer, invoice, at, 'B', 3, 1.1)];
}

const BOUGHT = '2011-01-01T10:00:00Z';
/** The last invoice in the data, which is the reference time ("now"): a guest line. */
const LAST = '2011-02-01T09:00:00Z';

const initial: CleanLine[] = [
  ...purchase(1, '600001', BOUGHT),
  ...purchase(2, '600002', BOUGHT),
  line(2, 'C600102', '2011-01-05T12:00:00Z', 'A', -4, 2.5),
  ...purchase(3, '600003', BOUGHT),
  // One minute after the return period.
  line(3, 'C600103', '2011-01-12T10:01:00Z', 'A', -4, 2.5),
  ...purchase(4, '600004', BOUGHT),
  // At the very end of the period: still inside.
  line(4, 'C600104', '2011-01-12T10:00:00Z', 'A', -4, 2.5),
  // Two purchases of A within the period: the cancellation goes to the most recent one before it.
  ...purchase(5, '600005', BOUGHT),
  ...purchase(5, '600015', '2011-01-03T10:00:00Z'),
  line(5, 'C600105', '2011-01-04T10:00:00Z', 'A', -2, 2.5),
  // A stock code the customer did not buy.
  ...purchase(6, '600006', BOUGHT),
  line(6, 'C600106', '2011-01-02T10:00:00Z', 'Z', -1, 9),
  // Bought less than 11 days before the end of the data: pending.
  ...purchase(7, '600007', '2011-01-25T10:00:00Z'),
  // A return larger than the invoice: no negative points.
  ...purchase(8, '600008', BOUGHT),
  line(8, 'C600108', '2011-01-02T10:00:00Z', 'A', -40, 2.5),
  // A cancellation dated before the purchase it would match reverses an older sale.
  line(9, 'C600109', '2011-01-01T09:00:00Z', 'A', -4, 2.5),
  ...purchase(9, '600009', BOUGHT),
  // An adjustment and a guest line earn nothing.
  { ...line(1, '600001', BOUGHT, 'POST', 1, 18), is_adjustment: true },
  { ...line(1, '600011', BOUGHT, 'A', 1, 2.5), customer_id: null },
  { ...line(1, '600099', LAST, 'A', 1, 2.5), customer_id: null },
];

let bench: AnalyticsBench;
let lake: LocalLake;
let part = 0;

async function deliver(lines: readonly CleanLine[]): Promise<void> {
  if (part === 0) await bench.warehouse.mergeLines(lines);
  else await bench.warehouse.copyLines('raw.invoice_lines', lines);
  await writeLake(bench.lakeDir, lines, `part-${part++}.parquet`);
  await refresh(bench.warehouse);
}

interface PointsRow {
  customer_id: number;
  invoice_no: string;
  earned_at: string;
  cancelled_value: string;
  net_revenue: string;
  points: number;
  is_earned: boolean;
}

async function pointsRows(): Promise<PointsRow[]> {
  const rows = await bench.warehouse.query<Record<string, unknown>>(
    `SELECT customer_id, invoice_no, CAST(earned_at AS VARCHAR) AS earned_at,
       CAST(cancelled_value AS VARCHAR) AS cancelled_value, CAST(net_revenue AS VARCHAR) AS net_revenue,
       points, is_earned
     FROM marts.loyalty_points ORDER BY customer_id, invoice_no`,
  );
  return rows.map((r) => ({ ...(r as unknown as PointsRow), points: Number(r['points']) }));
}

async function balances(): Promise<Record<number, [points: number, pending: number]>> {
  const rows = await bench.warehouse.query<Record<string, string>>(
    'SELECT customer_id, points, pending_points FROM marts.loyalty_balances',
  );
  return Object.fromEntries(
    rows.map((r) => [Number(r['customer_id']), [Number(r['points']), Number(r['pending_points'])]]),
  );
}

async function expectEnginesAgree(): Promise<void> {
  for (const mart of ['loyalty_points', 'loyalty_balances'] as const) {
    const inWarehouse = await warehouseRows(bench.warehouse, mart);
    expect(inWarehouse.length).toBeGreaterThan(0);
    expect({ mart, ...rowDifferences(inWarehouse, await lakeRows(lake, mart)) }).toEqual({
      mart,
      onlyLeft: [],
      onlyRight: [],
    });
  }
}

beforeAll(async () => {
  bench = await startAnalyticsBench();
  await deliver(initial);
  lake = await openLakeWithViews(bench.lakeGlob);
});

afterAll(async () => {
  lake?.close();
  await bench?.stop();
});

describe('loyalty points on both engines', () => {
  it('earns floor(net revenue) per invoice 11 days after it, net of the cancellations inside that window', async () => {
    // Act
    const rows = await pointsRows();
    // Assess
    const byInvoice = Object.fromEntries(rows.map((r) => [r.invoice_no, r]));
    expect(rows.map((r) => r.invoice_no)).toEqual([
      '600001',
      '600002',
      '600003',
      '600004',
      '600005',
      '600015',
      '600006',
      '600007',
      '600008',
      '600009',
    ]);
    expect(byInvoice['600001']).toMatchObject({
      customer_id: 1,
      earned_at: '2011-01-12 10:00:00',
      cancelled_value: '0.000',
      net_revenue: '28.300',
      points: 28,
      is_earned: true,
    });
    // Within the window: 10.00 less. One minute after it: nothing less. At its last minute: less.
    expect(byInvoice['600002']).toMatchObject({
      cancelled_value: '10.000',
      net_revenue: '18.300',
      points: 18,
    });
    expect(byInvoice['600003']).toMatchObject({ cancelled_value: '0.000', points: 28 });
    expect(byInvoice['600004']).toMatchObject({ cancelled_value: '10.000', points: 18 });
    // Allocated to the most recent purchase of A before the cancellation, and to it alone.
    expect(byInvoice['600005']).toMatchObject({ cancelled_value: '0.000', points: 28 });
    expect(byInvoice['600015']).toMatchObject({
      cancelled_value: '5.000',
      net_revenue: '23.300',
      points: 23,
    });
    // Another stock code; a return beyond the invoice; a cancellation before the purchase.
    expect(byInvoice['600006']).toMatchObject({ cancelled_value: '0.000', points: 28 });
    expect(byInvoice['600008']).toMatchObject({ net_revenue: '-71.700', points: 0 });
    expect(byInvoice['600009']).toMatchObject({ cancelled_value: '0.000', points: 28 });
    // Still inside its return period on the last day of the data.
    expect(byInvoice['600007']).toMatchObject({
      earned_at: '2011-02-05 10:00:00',
      points: 28,
      is_earned: false,
    });
    expect(await balances()).toEqual({
      1: [28, 0],
      2: [18, 0],
      3: [28, 0],
      4: [18, 0],
      5: [51, 0],
      6: [28, 0],
      7: [0, 28],
      8: [0, 0],
      9: [28, 0],
    });
    await expectEnginesAgree();
  });

  it('lowers earned points when a cancellation inside the window arrives late, and not for one after it', async () => {
    // Prepare: customer 1's points were earned at the last refresh.
    expect((await balances())[1]).toEqual([28, 0]);
    // Act: a return of 2 x A dated within the window, delivered only now; then one dated after it.
    await deliver([line(1, 'C600201', '2011-01-08T10:00:00Z', 'A', -2, 2.5)]);
    const afterInside = await balances();
    await expectEnginesAgree();
    await deliver([line(1, 'C600202', '2011-01-20T10:00:00Z', 'B', -3, 1.1)]);
    const afterOutside = await balances();
    // Assess
    expect(afterInside[1]).toEqual([23, 0]);
    expect(afterOutside[1]).toEqual([23, 0]);
    await expectEnginesAgree();
  });

  it('awards nothing twice when the refresh runs again or a line is delivered twice', async () => {
    // Prepare
    const before = await pointsRows();
    const beforeLake = await lakeRows(lake, 'loyalty_points');
    // Act
    await refresh(bench.warehouse);
    await deliver(initial.slice(0, 6));
    // Assess
    expect(await pointsRows()).toEqual(before);
    expect(await lakeRows(lake, 'loyalty_points')).toEqual(beforeLake);
  });

  it('earns a pending invoice once the data moves past its return period', async () => {
    // Act: a later guest invoice moves "now" past customer 7's earned_at.
    await deliver([{ ...line(1, '600300', '2011-02-06T09:00:00Z', 'A', 1, 2.5), customer_id: null }]);
    // Assess
    expect((await balances())[7]).toEqual([28, 0]);
    const [row] = await bench.warehouse.query<{ as_of: string }>(
      'SELECT DISTINCT CAST(as_of AS VARCHAR) AS as_of FROM marts.loyalty_balances',
    );
    expect(row!.as_of).toBe('2011-02-06 09:00:00');
    await expectEnginesAgree();
  });
});

describe('the loyalty SQL', () => {
  const root = findSqlRoot();
  const files = ['warehouse/marts/loyalty_points.sql', 'glue/views/loyalty_points.sql'].map(
    (path) => [path, readFileSync(join(root, path), 'utf8')] as const,
  );

  it.each(files)(
    '%s spells the return period and the points per unit of src/core/loyalty.ts',
    (_path, sql) => {
      // Prepare: the code, without comments.
      const code = sql.replace(/--.*$/gm, '');
      // Act
      const periods = [...code.matchAll(/INTERVAL\s+'([^']*)'(\s+DAY)?/gi)].map((m) => m[0]);
      const rates = [...code.matchAll(/FLOOR\(\s*[\w.]+\s*\*\s*(\d+)\s*\)/gi)].map((m) => Number(m[1]));
      // Assess
      expect(periods.length).toBeGreaterThanOrEqual(2);
      for (const period of periods) {
        expect([`INTERVAL '${RETURN_PERIOD_DAYS} days'`, `INTERVAL '${RETURN_PERIOD_DAYS}' DAY`]).toContain(
          period,
        );
      }
      expect(rates).toEqual([POINTS_PER_UNIT]);
    },
  );
});
