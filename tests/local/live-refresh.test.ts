/**
 * The local stack's live refresh against the embedded PostgreSQL, dynalite and s3rver: a tick does no work
 * when nothing arrived; when raw has lines no refresh took, it refreshes the marts, publishes the balances
 * and writes the dashboard snapshot, whose figures are the marts'. The ticks are called directly (the
 * timer is off), so nothing here waits on a clock.
 */
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { jest } from '@jest/globals';
import { createPipelineResources } from '../../src/adapters/provision.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import { customerPk, LOYALTY_BALANCE_SK } from '../../src/core/dynamo-items.js';
import type { CleanLine } from '../../src/core/schema.js';
import { readDashboardSnapshot } from '../../src/dashboard/snapshot.js';
import {
  type LiveRefresh,
  type LocalRefreshTarget,
  refreshLocalStack,
  startLiveRefresh,
} from '../../src/local/live-refresh.js';
import { cleanLines, decimalText, milli } from '../helpers/analytics.js';
import { type LoadBench, startLoadTargets } from '../helpers/load-targets.js';

jest.setTimeout(120_000);

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'online-retail-dirty.csv');
const BUCKET = LOCAL_RESOURCES.rawBucket;

let bench: LoadBench;
let stack: LocalRefreshTarget;
let lines: CleanLine[];
let live: LiveRefresh;
let logged: string[];
let clock: Date;

/** Net product revenue of `lines`, in thousandths, as marts.daily_revenue sums it. */
const revenueOf = (ls: readonly CleanLine[]) =>
  ls.filter((l) => !l.is_adjustment).reduce((sum, l) => sum + milli(l.line_total), 0);

async function martRevenue(): Promise<string | null> {
  const [row] = await bench.warehouse.query<{ r: string | null }>(
    'SELECT CAST(SUM(revenue) AS VARCHAR) AS r FROM marts.daily_revenue',
  );
  return row!.r;
}

async function snapshot() {
  const s = await readDashboardSnapshot(bench.emu.s3, BUCKET);
  if (!s) throw new Error(`no dashboard snapshot in ${BUCKET}`);
  return s;
}

beforeAll(async () => {
  bench = await startLoadTargets();
  // The local stack's own resource names: refreshLocalStack writes where the stack's API reads.
  await createPipelineResources(
    { dynamo: bench.emu.dynamo, s3: bench.emu.s3 },
    {
      tables: { invoices: LOCAL_RESOURCES.invoicesTable, customers: LOCAL_RESOURCES.customersTable },
      buckets: [BUCKET],
    },
  );
  await bench.warehouse.ensureRaw();
  lines = await cleanLines(FIXTURE);
  const endpoints = bench.emu.config.aws.endpoints;
  stack = {
    warehouse: bench.warehouse,
    target: 'test warehouse',
    endpoints: {
      kinesis: endpoints.kinesis!,
      dynamodb: endpoints.dynamodb!,
      s3: endpoints.s3!,
      firehose: endpoints.firehose!,
    },
  };
});

afterAll(async () => {
  await live?.stop();
  await bench?.stop();
});

beforeEach(() => {
  logged = [];
  clock = new Date('2026-12-04T10:00:00.000Z');
  // A live refresh per test, so each starts with no memory of raw's count, as a restarted stack does.
  live = startLiveRefresh(stack, 0, (m) => logged.push(m), { now: () => clock });
});

afterEach(async () => {
  await live.stop();
});

describe('live refresh of the local stack', () => {
  it('does nothing when nothing arrived: an empty raw is not refreshed', async () => {
    // Act
    const tick = await live.tick();
    // Assess
    expect(tick).toEqual({ refreshed: false, reason: 'nothing arrived' });
    expect(logged).toEqual([]);
    expect(await readDashboardSnapshot(bench.emu.s3, BUCKET)).toBeNull();
  });

  it('refreshes the marts and writes the snapshot with their figures when lines arrived', async () => {
    // Prepare: lines delivered into raw, as the local Firehose does, and no refresh since.
    const first = lines.slice(0, Math.floor(lines.length / 2));
    await bench.warehouse.copyLines('raw.invoice_lines', first);
    // Act
    const tick = await live.tick();
    // Assess
    expect(tick).toMatchObject({ refreshed: true, rows: first.length });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(new RegExp(`^live refresh: ${first.length} new raw row\\(s\\)`));
    expect(await martRevenue()).toBe(decimalText(revenueOf(first)));
    const s = await snapshot();
    expect(s.refreshedAt).toBe(clock.toISOString());
    expect(s.warehouse).toEqual({
      rawLines: first.length,
      stagingLines: first.length,
      newestInvoiceAt: `${first
        .map((l) => l.invoice_date)
        .sort()
        .at(-1)!
        .slice(0, 19)}Z`,
      lastDeliveryAt: clock.toISOString(),
    });
    const snapshotRevenue = s.dailyCountryRevenue.reduce((sum, r) => sum + milli(r.revenue), 0);
    expect(decimalText(snapshotRevenue)).toBe(await martRevenue());
    for (const row of s.dailyCountryRevenue) expect(typeof row.invoices).toBe('number');
    const cancelled = await bench.warehouse.query<{ lines: string }>(
      'SELECT CAST(SUM(product_lines) AS VARCHAR) AS lines FROM marts.cancellations',
    );
    expect(s.cancellations.reduce((sum, r) => sum + r.product_lines, 0)).toBe(Number(cancelled[0]!.lines));
    const customers = await bench.warehouse.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM marts.customer_rfm',
    );
    expect(s.rfmSegments.reduce((sum, r) => sum + r.customers, 0)).toBe(Number(customers[0]!.n));
    const [balance] = await bench.warehouse.query<{ customer_id: number }>(
      'SELECT customer_id FROM marts.loyalty_balances ORDER BY customer_id LIMIT 1',
    );
    const item = await bench.emu.dynamo.send(
      new GetItemCommand({
        TableName: LOCAL_RESOURCES.customersTable,
        Key: { pk: { S: customerPk(balance!.customer_id) }, sk: { S: LOYALTY_BALANCE_SK } },
      }),
    );
    expect(item.Item).toBeDefined();
  });

  it('does no work on the next tick when nothing more arrived, and keeps the snapshot', async () => {
    // Prepare: the previous test's refresh took everything raw holds; this live refresh looks once.
    const before = await snapshot();
    expect(await live.tick()).toEqual({ refreshed: false, reason: 'nothing arrived' });
    clock = new Date('2026-12-04T10:05:00.000Z');
    // Act
    const tick = await live.tick();
    // Assess
    expect(tick).toEqual({ refreshed: false, reason: 'nothing arrived' });
    expect(logged).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('refreshes again when more lines arrived, and dates the delivery to that refresh', async () => {
    // Prepare
    const before = await snapshot();
    const second = lines.slice(Math.floor(lines.length / 2));
    await bench.warehouse.copyLines('raw.invoice_lines', second);
    clock = new Date('2026-12-04T10:10:00.000Z');
    // Act
    const tick = await live.tick();
    // Assess
    expect(tick).toMatchObject({ refreshed: true, rows: second.length });
    expect(await martRevenue()).toBe(decimalText(revenueOf(lines)));
    const s = await snapshot();
    expect(s.warehouse.rawLines).toBe(lines.length);
    expect(s.warehouse.lastDeliveryAt).toBe(clock.toISOString());
    expect(before.warehouse.lastDeliveryAt).not.toBe(clock.toISOString());
  });

  it('leaves lines another refresh took (ecomflow refresh, load) to that refresh', async () => {
    // Prepare: the same lines delivered again (raw grows), then refreshed by the command's code path.
    await live.tick();
    await bench.warehouse.copyLines('raw.invoice_lines', lines.slice(0, 10));
    await refreshLocalStack(stack, { now: () => clock });
    const before = await snapshot();
    clock = new Date('2026-12-04T10:20:00.000Z');
    // Act
    const tick = await live.tick();
    // Assess
    expect(tick).toEqual({ refreshed: false, reason: 'nothing arrived' });
    expect(await snapshot()).toEqual(before);
  });

  it('never runs two ticks at once: a tick during a run is skipped', async () => {
    // Prepare
    await bench.warehouse.copyLines('raw.invoice_lines', lines.slice(0, 5));
    await bench.warehouse.query(
      'DELETE FROM staging.stored_rows WHERE line_id IN (SELECT line_id FROM "raw".invoice_lines LIMIT 5)',
    );
    // Act
    const [first, second] = await Promise.all([live.tick(), live.tick()]);
    // Assess
    expect(first.refreshed).toBe(true);
    expect(second).toEqual({ refreshed: false, reason: 'a run is under way' });
    expect(await martRevenue()).toBe(decimalText(revenueOf(lines)));
  });
});
