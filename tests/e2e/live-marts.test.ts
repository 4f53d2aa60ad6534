/**
 * Live marts end to end: the real `ecomflow up` with a 5 s refresh interval and a 200 ms Firehose buffer.
 * Lines posted through the API reach the marts and the dashboard snapshot in the local S3 within two
 * refresh intervals of their delivery into the warehouse, with no command run. Issue 13's "Must show:
 * live marts, end to end" is this bound; it is the behaviour under test, not a speed measurement.
 */
import { jest } from '@jest/globals';
import { PgWarehouse } from '../../src/adapters/pg-warehouse.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import type { DashboardSnapshot } from '../../src/dashboard/contract.js';
import { readDashboardSnapshot } from '../../src/dashboard/snapshot.js';
import { readStackInfo } from '../../src/local/stack.js';
import { decimalText, milli } from '../helpers/analytics.js';
import { type PostedRows, postedRows } from '../helpers/posted-rows.js';
import {
  cleanUp,
  eventually,
  makeHome,
  type StackProcess,
  stackEnv,
  startStackProcess,
} from '../helpers/stack-process.js';

jest.setTimeout(120_000);

// Long enough that the refresh itself (a second or two on a busy 2-core CI machine) fits in the two
// intervals' slack: the bound is about the schedule, not about the machine's speed.
const REFRESH_INTERVAL_MS = 5_000;

let home: string;
let stack: StackProcess;
let warehouse: PgWarehouse;
let s3: ReturnType<typeof createS3Client>;

beforeAll(async () => {
  home = await makeHome();
  stack = await startStackProcess(
    await stackEnv(home, { ECOMFLOW_REFRESH_INTERVAL_MS: String(REFRESH_INTERVAL_MS) }),
  );
  const info = await readStackInfo(home);
  warehouse = new PgWarehouse(info.warehouseUrl);
  s3 = createS3Client({ region: LOCAL_RESOURCES.region, endpoints: info.endpoints });
});

afterAll(async () => {
  s3?.destroy();
  await warehouse?.close();
  await cleanUp(stack, home);
});

/** Net product revenue of the distinct lines, as the marts count it (each line_id once). */
function revenueOf(rows: PostedRows): string {
  const byId = new Map(rows.lines.map((l) => [l.line_id, l]));
  return decimalText(
    [...byId.values()].filter((l) => !l.is_adjustment).reduce((s, l) => s + milli(l.line_total), 0),
  );
}

/** The marts' net revenue; null before any refresh created them, or while they are empty. */
async function martRevenue(): Promise<string | null> {
  const rows = await warehouse
    .query<{ r: string | null }>('SELECT CAST(SUM(revenue) AS VARCHAR) AS r FROM marts.daily_revenue')
    .catch((err: { code?: string }) => {
      // 42P01: relation does not exist, the marts before the first refresh.
      if (err.code === '42P01') return [];
      throw err;
    });
  return rows[0]?.r ?? null;
}

async function rawLines(): Promise<number> {
  const [row] = await warehouse.query<{ n: string }>('SELECT COUNT(*) AS n FROM "raw".invoice_lines');
  return Number(row!.n);
}

/** Posts the rows and resolves once the warehouse's raw table holds every one (delivered). */
async function postAndWaitForDelivery(rows: PostedRows, rawBefore: number): Promise<void> {
  const response = await fetch(`${stack.apiUrl}/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv; charset=utf-8', 'x-api-key': stack.apiKey },
    body: rows.csv,
  });
  expect(response.status).toBe(202);
  await eventually(
    'the warehouse holds the posted rows',
    async () => ((await rawLines()) === rawBefore + rows.lines.length ? true : undefined),
    60_000,
    50,
  );
}

/** The marts' revenue and the snapshot, once both show `revenue`, within two refresh intervals. */
async function liveWithinTwoIntervals(revenue: string): Promise<DashboardSnapshot> {
  return eventually(
    `marts.daily_revenue and the snapshot show ${revenue}`,
    async () => {
      if ((await martRevenue()) !== revenue) return undefined;
      const snapshot = await readDashboardSnapshot(s3, LOCAL_RESOURCES.rawBucket);
      const shown = snapshot?.dailyCountryRevenue.reduce((s, r) => s + milli(r.revenue), 0);
      return shown !== undefined && decimalText(shown) === revenue ? snapshot! : undefined;
    },
    2 * REFRESH_INTERVAL_MS,
    50,
  );
}

describe('live marts on the local stack', () => {
  it('shows posted lines in the marts and the snapshot within two refresh intervals, with no command run, each time lines arrive', async () => {
    // Prepare: two bodies of distinct invoices, posted one after the other.
    const first = postedRows(400, 1301, 7_000_000);
    const more = postedRows(300, 1302, 8_000_000);
    expect(await martRevenue()).toBeNull();
    // Act
    await postAndWaitForDelivery(first, 0);
    const afterFirst = await liveWithinTwoIntervals(revenueOf(first));
    await postAndWaitForDelivery(more, first.lines.length);
    const both = decimalText(milli(Number(revenueOf(first))) + milli(Number(revenueOf(more))));
    const afterMore = await liveWithinTwoIntervals(both);
    // Assess
    expect(afterFirst.warehouse).toMatchObject({
      rawLines: first.lines.length,
      stagingLines: first.distinct,
    });
    expect(afterFirst.warehouse.lastDeliveryAt).not.toBeNull();
    expect(afterMore.warehouse).toMatchObject({
      rawLines: first.lines.length + more.lines.length,
      stagingLines: first.distinct + more.distinct,
    });
    expect(afterMore.refreshedAt > afterFirst.refreshedAt).toBe(true);
    // The stack's one line per refresh (its log goes to stderr, beside the other parts').
    const { stdout, stderr } = stack.output();
    expect(`${stdout}${stderr}`).toMatch(/live refresh: \d+ new raw row\(s\)/);
  });
});
