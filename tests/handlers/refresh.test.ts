import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { createPipelineResources } from '../../src/adapters/provision.js';
import { LOYALTY_BALANCES_QUERY } from '../../src/analytics/loyalty-publish.js';
import { MART_COLUMNS_SQL, REFRESH_LOCK_SQL } from '../../src/analytics/refresh.js';
import { LOYALTY_BALANCE_SK } from '../../src/core/dynamo-items.js';
import type { CleanLine } from '../../src/core/schema.js';
import { DASHBOARD_SNAPSHOT_KEY, DASHBOARD_SNAPSHOT_VERSION } from '../../src/dashboard/contract.js';
import { readDashboardSnapshot } from '../../src/dashboard/snapshot.js';
import { createRefreshHandler } from '../../src/handlers/refresh.js';
import { cleanLines, decimalText, milli } from '../helpers/analytics.js';
import { type FakeRedshiftData, fakeRedshiftData as pgRedshiftData } from '../helpers/fake-redshift-data.js';
import { type LoadBench, startLoadTargets } from '../helpers/load-targets.js';
import { fakeRedshiftData, type SentCommand } from '../helpers/redshift-data.js';

const config = {
  region: 'eu-west-1',
  target: { database: 'dev', secretArn: 'arn:s', workgroupName: 'ecomflow' },
  timeoutMs: 60_000,
  customersTable: undefined,
  dashboardBucket: undefined,
};

/** The tests that write no snapshot are given an S3 client that fails if it is used. */
const noS3 = {
  send: async () => {
    throw new Error('no S3 call expected: DASHBOARD_BUCKET is not set');
  },
} as unknown as S3Client;

/** A document client that records what it is sent and stores every put. */
function fakeDynamo() {
  const sent: SentCommand[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ name: command.constructor.name, input: command.input });
      return { UnprocessedItems: {} };
    },
  };
  return { dynamo: client as unknown as DynamoDBDocumentClient, sent };
}

describe('refresh handler', () => {
  beforeEach(() => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('runs the setup batch, then the refresh batch starting with the lock, on the configured workgroup', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED' }]);
    const handler = createRefreshHandler(() => ({ config, client, dynamo: fakeDynamo().dynamo, s3: noS3 }));
    // Act
    const result = await handler();
    // Assess
    const batches = sent.filter((c) => c.name === 'BatchExecuteStatementCommand');
    expect(batches).toHaveLength(2);
    expect(batches[1]!.input).toMatchObject({
      WorkgroupName: 'ecomflow',
      Database: 'dev',
      SecretArn: 'arn:s',
    });
    expect((batches[1]!.input['Sqls'] as string[])[0]).toBe(REFRESH_LOCK_SQL);
    expect(result).toMatchObject({ target: 'redshift ecomflow/dev', full: false });
  });

  it('publishes the balances of marts.loyalty_balances to the customers table after the refresh', async () => {
    // Prepare: the Data API answers the balances query with two customers.
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED', HasResultSet: true }], {
      ColumnMetadata: [{ name: 'customer_id' }, { name: 'points' }, { name: 'as_of' }],
      Records: [
        [{ longValue: 12347 }, { longValue: 4310 }, { stringValue: '2011-12-09 12:50:00' }],
        [{ longValue: 17850 }, { longValue: 0 }, { stringValue: '2011-12-09 12:50:00' }],
      ],
    });
    const { dynamo, sent: writes } = fakeDynamo();
    const handler = createRefreshHandler(() => ({
      config: { ...config, customersTable: 'ecomflow-test-customers' },
      client,
      dynamo,
      s3: noS3,
    }));
    // Act
    const result = await handler();
    // Assess
    const queries = sent.filter((c) => c.name === 'ExecuteStatementCommand');
    expect(queries.map((q) => q.input['Sql'])).toEqual([MART_COLUMNS_SQL, LOYALTY_BALANCES_QUERY]);
    expect(writes.map((w) => w.name)).toEqual(['BatchWriteCommand']);
    const requests = (
      writes[0]!.input['RequestItems'] as Record<string, { PutRequest: { Item: unknown } }[]>
    )['ecomflow-test-customers']!;
    expect(requests.map((r) => r.PutRequest.Item)).toEqual([
      {
        pk: 'CUST#12347',
        sk: LOYALTY_BALANCE_SK,
        kind: 'loyalty_balance',
        customer_id: 12347,
        points: 4310,
        as_of: '2011-12-09T12:50:00Z',
      },
      {
        pk: 'CUST#17850',
        sk: LOYALTY_BALANCE_SK,
        kind: 'loyalty_balance',
        customer_id: 17850,
        points: 0,
        as_of: '2011-12-09T12:50:00Z',
      },
    ]);
    expect(result.loyalty).toMatchObject({ balances: 2, written: 2 });
  });

  it('publishes nothing, and says so, when no customers table is configured', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED' }]);
    const { dynamo, sent: writes } = fakeDynamo();
    const handler = createRefreshHandler(() => ({ config, client, dynamo, s3: noS3 }));
    // Act
    const result = await handler();
    // Assess
    // Only the refresh's look at the marts' columns: no balances query.
    expect(sent.filter((c) => c.name === 'ExecuteStatementCommand').map((c) => c.input['Sql'])).toEqual([
      MART_COLUMNS_SQL,
    ]);
    expect(writes).toEqual([]);
    expect(result.loyalty).toBeUndefined();
  });

  it('fails the invocation when Redshift fails a statement', async () => {
    // Prepare
    const { client } = fakeRedshiftData([{ Status: 'FAILED', Error: 'permission denied for schema marts' }]);
    const handler = createRefreshHandler(() => ({ config, client, dynamo: fakeDynamo().dynamo, s3: noS3 }));
    // Act / Assess
    await expect(handler()).rejects.toThrow('permission denied for schema marts');
  });
});

describe('refresh handler: the dashboard snapshot', () => {
  const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'online-retail-dirty.csv');
  const BUCKET = 'ecomflow-test-raw';
  let bench: LoadBench;
  let redshift: FakeRedshiftData;
  let lines: CleanLine[];

  beforeAll(async () => {
    // Prepare: lines in raw, as Firehose's COPY leaves them; Redshift is the embedded PostgreSQL behind
    // the fake Data API, S3 is s3rver.
    bench = await startLoadTargets();
    await createPipelineResources({ s3: bench.emu.s3 }, { buckets: [BUCKET] });
    await bench.warehouse.ensureRaw();
    lines = await cleanLines(FIXTURE);
    await bench.warehouse.copyLines('raw.invoice_lines', lines);
    redshift = pgRedshiftData(bench.warehouseUrl, bench.emu.s3);
  }, 120_000);

  afterAll(async () => {
    await redshift?.close();
    await bench?.stop();
  });

  it('writes the snapshot of the refreshed marts to DASHBOARD_BUCKET, read through the Data API', async () => {
    // Prepare
    const handler = createRefreshHandler(
      () => ({
        config: {
          ...config,
          customersTable: bench.emu.config.tables.customers,
          dashboardBucket: BUCKET,
        },
        client: redshift.client,
        dynamo: bench.emu.dynamo,
        s3: bench.emu.s3,
      }),
      new Logger({ logLevel: 'SILENT' }),
    );
    // Act
    const result = await handler();
    // Assess
    expect(result.snapshot).toEqual({ bucket: BUCKET, key: DASHBOARD_SNAPSHOT_KEY });
    const snapshot = await readDashboardSnapshot(bench.emu.s3, BUCKET);
    expect(snapshot).not.toBeNull();
    expect(snapshot!.version).toBe(DASHBOARD_SNAPSHOT_VERSION);
    expect(snapshot!.warehouse).toMatchObject({ rawLines: lines.length, stagingLines: lines.length });
    expect(snapshot!.warehouse.lastDeliveryAt).toBe(snapshot!.refreshedAt);
    // The marts' figures, as PostgreSQL (Redshift) holds them.
    const [daily] = await bench.warehouse.query<{ revenue: string; lines: string }>(
      'SELECT CAST(SUM(revenue) AS VARCHAR) AS revenue, CAST(SUM(lines) AS VARCHAR) AS lines FROM marts.daily_revenue',
    );
    const products = await bench.warehouse.query<{ n: string; units: string }>(
      'SELECT COUNT(*) AS n, CAST(SUM(units) AS VARCHAR) AS units FROM marts.product_country_sales',
    );
    const sum = <T>(rows: readonly T[], f: (r: T) => number) => rows.reduce((acc, r) => acc + f(r), 0);
    expect(decimalText(sum(snapshot!.dailyCountryRevenue, (r) => milli(r.revenue)))).toBe(daily!.revenue);
    expect(sum(snapshot!.dailyCountryRevenue, (r) => r.lines)).toBe(Number(daily!.lines));
    expect(sum(snapshot!.cancellations, (r) => r.product_lines)).toBe(Number(daily!.lines));
    expect(snapshot!.productCountrySales).toHaveLength(Number(products[0]!.n));
    expect(sum(snapshot!.productCountrySales, (r) => r.units)).toBe(Number(products[0]!.units));
    expect(snapshot!.monthlyCountryRevenue.length).toBeGreaterThan(0);
    expect(snapshot!.rfmSegments.length).toBeGreaterThan(0);
    expect(redshift.statements.map((s) => s.sql)).toContain(LOYALTY_BALANCES_QUERY);
  });

  it('keeps the last delivery time of the previous snapshot when raw did not grow', async () => {
    // Prepare
    const before = await readDashboardSnapshot(bench.emu.s3, BUCKET);
    const handler = createRefreshHandler(
      () => ({
        config: { ...config, dashboardBucket: BUCKET },
        client: redshift.client,
        dynamo: fakeDynamo().dynamo,
        s3: bench.emu.s3,
      }),
      new Logger({ logLevel: 'SILENT' }),
    );
    // Act
    await handler();
    // Assess
    const after = await readDashboardSnapshot(bench.emu.s3, BUCKET);
    expect(after!.warehouse.lastDeliveryAt).toBe(before!.warehouse.lastDeliveryAt);
    expect(after!.dailyCountryRevenue).toEqual(before!.dailyCountryRevenue);
  });
});
