/**
 * Loyalty points on the real data: the points of three customers in marts.loyalty_points and
 * marts.loyalty_balances (and the Athena views) equal a computation written here, in plain TypeScript over
 * the cleaned CSV rows, and the publish to DynamoDB writes one balance item per customer. It prints what
 * it measured: the refresh with and without the loyalty models, and the publish.
 */
import { jest } from '@jest/globals';
import { batchWrite } from '../../src/adapters/dynamodb.js';
import { publishLoyaltyBalances } from '../../src/analytics/loyalty-publish.js';
import { findSqlRoot, loadWarehouseStatements } from '../../src/analytics/models.js';
import { pgRunner } from '../../src/analytics/pg-runner.js';
import { LOYALTY_BALANCE_SK } from '../../src/core/dynamo-items.js';
import { POINTS_PER_UNIT, RETURN_PERIOD_DAYS } from '../../src/core/loyalty.js';
import type { CleanLine } from '../../src/core/schema.js';
import type { LocalLake } from '../../src/local/lake.js';
import {
  type AnalyticsBench,
  cleanLines,
  decimalText,
  milli,
  openLakeWithViews,
  refresh,
  startAnalyticsBench,
  writeLake,
} from '../helpers/analytics.js';
import { type Emulators, scanTable, startEmulators } from '../helpers/emulators.js';
import { describeWithRealData, REAL_DATA } from '../helpers/real-data.js';

jest.setTimeout(300_000);

/** 17850 returns a lot, 14911 buys and cancels most, 12347 never cancels. */
const CUSTOMERS = [17850, 14911, 12347] as const;

interface Invoice {
  customer: number;
  invoiceNo: string;
  date: string;
  revenue: number;
  cancelled: number;
}

/**
 * The rule of docs/loyalty.md, computed line by line: each cancellation line of a known customer goes to
 * the latest purchase invoice of that customer with the same stock code whose window holds it.
 */
function expectedPoints(lines: readonly CleanLine[]) {
  const periodMs = RETURN_PERIOD_DAYS * 86_400_000;
  const products = lines.filter((l) => !l.is_adjustment && l.customer_id !== null);
  const invoices = new Map<string, Invoice>();
  for (const l of products.filter((p) => !p.is_cancellation)) {
    const key = `${l.customer_id}|${l.invoice_no}`;
    const inv = invoices.get(key) ?? {
      customer: l.customer_id!,
      invoiceNo: l.invoice_no,
      date: l.invoice_date,
      revenue: 0,
      cancelled: 0,
    };
    invoices.set(key, inv);
    if (l.invoice_date < inv.date) inv.date = l.invoice_date;
    inv.revenue += milli(l.line_total);
  }
  const bought = new Map<string, Set<Invoice>>();
  for (const l of products.filter((p) => !p.is_cancellation)) {
    const key = `${l.customer_id}|${l.stock_code}`;
    const set = bought.get(key) ?? new Set<Invoice>();
    bought.set(key, set);
    set.add(invoices.get(`${l.customer_id}|${l.invoice_no}`)!);
  }
  let allocatedLines = 0;
  for (const c of products.filter((p) => p.is_cancellation)) {
    const at = Date.parse(c.invoice_date);
    let owner: Invoice | undefined;
    for (const inv of bought.get(`${c.customer_id}|${c.stock_code}`) ?? []) {
      const from = Date.parse(inv.date);
      if (at < from || at > from + periodMs) continue;
      if (!owner || inv.date > owner.date || (inv.date === owner.date && inv.invoiceNo > owner.invoiceNo)) {
        owner = inv;
      }
    }
    if (owner) {
      owner.cancelled += milli(c.line_total);
      allocatedLines++;
    }
  }
  let reference = '';
  for (const l of lines) if (l.invoice_date > reference) reference = l.invoice_date;
  const points = (inv: Invoice) => {
    const net = inv.revenue + inv.cancelled;
    return net > 0 ? Math.floor((net * POINTS_PER_UNIT) / 1000) : 0;
  };
  const earned = (inv: Invoice) => Date.parse(inv.date) + periodMs <= Date.parse(reference);
  return { invoices: [...invoices.values()], points, earned, reference, allocatedLines };
}

describeWithRealData('loyalty points on the real data', () => {
  let bench: AnalyticsBench;
  let lake: LocalLake;
  let expected: ReturnType<typeof expectedPoints>;
  let refreshMs: number;

  beforeAll(async () => {
    bench = await startAnalyticsBench();
    const lines = await cleanLines(REAL_DATA);
    expected = expectedPoints(lines);
    await bench.warehouse.mergeLines(lines);
    await writeLake(bench.lakeDir, lines);
    await refresh(bench.warehouse);
    const started = Date.now();
    await refresh(bench.warehouse);
    refreshMs = Date.now() - started;
    lake = await openLakeWithViews(bench.lakeGlob);
  }, 300_000);

  afterAll(async () => {
    lake?.close();
    await bench?.stop();
  });

  it.each(CUSTOMERS)(
    'gives customer %i the points of every invoice computed from the lines',
    async (customer) => {
      // Prepare
      const mine = expected.invoices.filter((i) => i.customer === customer);
      // Act
      const rows = await bench.warehouse.query<Record<string, string>>(
        `SELECT invoice_no, CAST(net_revenue AS VARCHAR) AS net, CAST(cancelled_value AS VARCHAR) AS cancelled,
         points, is_earned
       FROM marts.loyalty_points WHERE customer_id = $1 ORDER BY invoice_no`,
        [customer],
      );
      const [balance] = await bench.warehouse.query<Record<string, string>>(
        'SELECT points, pending_points FROM marts.loyalty_balances WHERE customer_id = $1',
        [customer],
      );
      const [lakeBalance] = await lake.query(
        `SELECT points, pending_points FROM loyalty_balances WHERE customer_id = ${customer}`,
      );
      // Assess
      const want = mine
        .map((i) => ({
          invoice_no: i.invoiceNo,
          net: decimalText(i.revenue + i.cancelled),
          cancelled: decimalText(-i.cancelled),
          points: String(expected.points(i)),
          is_earned: expected.earned(i),
        }))
        .sort((a, b) => (a.invoice_no < b.invoice_no ? -1 : 1));
      expect(rows.map((r) => ({ ...r, points: String(r['points']) }))).toEqual(want);
      const points = mine.filter(expected.earned).reduce((sum, i) => sum + expected.points(i), 0);
      const pending = mine.filter((i) => !expected.earned(i)).reduce((sum, i) => sum + expected.points(i), 0);
      const lowered = mine.filter((i) => i.cancelled < 0).length;
      console.log(
        `customer ${customer}: ${points} points, ${pending} pending, ${mine.length} invoices (${lowered} lowered by a cancellation)`,
      );
      expect([Number(balance!['points']), Number(balance!['pending_points'])]).toEqual([points, pending]);
      expect([Number(lakeBalance!['points']), Number(lakeBalance!['pending_points'])]).toEqual([
        points,
        pending,
      ]);
    },
  );

  it('lowers some invoices of the chosen customers, so the comparison covers cancellations', () => {
    const lowered = expected.invoices.filter(
      (i) => CUSTOMERS.includes(i.customer as never) && i.cancelled < 0,
    );
    console.log(
      `cancellation lines inside a window: ${expected.allocatedLines}; reference time ${expected.reference}`,
    );
    expect(lowered.length).toBeGreaterThan(0);
  });

  it('costs the refresh what the loyalty models take, measured', async () => {
    // Act: the two loyalty models alone, as the refresh runs them.
    const statements = (
      await loadWarehouseStatements(findSqlRoot(), ['marts/loyalty_points', 'marts/loyalty_balances'])
    ).filter((s) => !/^\s*(--.*\n\s*)*CREATE\s/i.test(s.sql));
    const started = Date.now();
    await pgRunner(bench.warehouse, 'test warehouse').runTransaction(statements);
    const loyaltyMs = Date.now() - started;
    const [counts] = await bench.warehouse.query<Record<string, string>>(
      'SELECT (SELECT COUNT(*) FROM marts.loyalty_points) AS invoices, (SELECT COUNT(*) FROM marts.loyalty_balances) AS customers',
    );
    // Assess
    console.log(
      `refresh with the loyalty models: ${refreshMs} ms; the loyalty models alone: ${loyaltyMs} ms ` +
        `(${counts!['invoices']} invoice rows, ${counts!['customers']} balances)`,
    );
    expect(Number(counts!['customers'])).toBe(new Set(expected.invoices.map((i) => i.customer)).size);
    expect(Number(counts!['invoices'])).toBe(expected.invoices.length);
  });

  describe('published to DynamoDB', () => {
    let emu: Emulators;

    beforeAll(async () => {
      emu = await startEmulators({ shards: 1 });
    });

    afterAll(async () => {
      await emu?.stop();
    });

    it('writes one balance item per customer, the same items when published again', async () => {
      // Prepare
      const put = (writes: Parameters<typeof batchWrite>[2]) =>
        batchWrite(emu.dynamo, emu.config.tables, writes);
      const read = (sql: string) => bench.warehouse.query(sql);
      // Act
      const first = await publishLoyaltyBalances(read, put);
      const second = await publishLoyaltyBalances(read, put);
      // Assess
      const items = (await scanTable(emu.dynamo, emu.config.tables.customers)).filter(
        (i) => i['sk'] === LOYALTY_BALANCE_SK,
      );
      console.log(
        `published ${first.balances} balances in ${first.ms} ms (again: ${second.ms} ms) to dynalite`,
      );
      expect(items).toHaveLength(first.balances);
      expect(second).toMatchObject({ balances: first.balances, written: first.written });
      const byCustomer = new Map(items.map((i) => [i['customer_id'], i]));
      expect(byCustomer.get(CUSTOMERS[0])).toMatchObject({
        as_of: expected.reference,
        points: expected.invoices
          .filter((i) => i.customer === CUSTOMERS[0] && expected.earned(i))
          .reduce((sum, i) => sum + expected.points(i), 0),
      });
    });
  });
});
