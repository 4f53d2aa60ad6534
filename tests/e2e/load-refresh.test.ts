/**
 * `ecomflow load` into the running stack ends with the stack's own refresh (src/local/live-refresh.ts): when
 * the command returns, the marts and the dashboard snapshot show the file, with the stack's timer off.
 */
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { PgWarehouse } from '../../src/adapters/pg-warehouse.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import { readDashboardSnapshot } from '../../src/dashboard/snapshot.js';
import { readStackInfo } from '../../src/local/stack.js';
import { cleanLines, decimalText, milli } from '../helpers/analytics.js';
import {
  cleanUp,
  makeHome,
  runCli,
  type StackProcess,
  stackEnv,
  startStackProcess,
} from '../helpers/stack-process.js';

jest.setTimeout(120_000);

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'online-retail-dirty.csv');

let home: string;
let vars: Record<string, string>;
let stack: StackProcess;

beforeAll(async () => {
  home = await makeHome();
  // stackEnv turns the live refresh's timer off: only the load can have refreshed.
  vars = await stackEnv(home);
  stack = await startStackProcess(vars);
});

afterAll(async () => {
  await cleanUp(stack, home);
});

describe('ecomflow load', () => {
  it('refreshes the marts and writes the dashboard snapshot before it returns', async () => {
    // Prepare
    const lines = await cleanLines(FIXTURE);
    const revenue = decimalText(
      lines.filter((l) => !l.is_adjustment).reduce((s, l) => s + milli(l.line_total), 0),
    );
    // Act
    const result = await runCli(['load', FIXTURE], vars);
    // Assess
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/refresh +staging and the marts in \d+ ms/);
    const info = await readStackInfo(home);
    const warehouse = new PgWarehouse(info.warehouseUrl);
    const s3 = createS3Client({ region: LOCAL_RESOURCES.region, endpoints: info.endpoints });
    try {
      const [row] = await warehouse.query<{ r: string }>(
        'SELECT CAST(SUM(revenue) AS VARCHAR) AS r FROM marts.daily_revenue',
      );
      expect(row!.r).toBe(revenue);
      const snapshot = await readDashboardSnapshot(s3, LOCAL_RESOURCES.rawBucket);
      expect(snapshot).not.toBeNull();
      expect(decimalText(snapshot!.dailyCountryRevenue.reduce((s, r) => s + milli(r.revenue), 0))).toBe(
        revenue,
      );
      expect(snapshot!.warehouse.stagingLines).toBe(lines.length);
    } finally {
      s3.destroy();
      await warehouse.close();
    }
  });
});
