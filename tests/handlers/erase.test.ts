/**
 * The erase function on the AWS path, run here: dynalite and s3rver for the tables and buckets, the
 * embedded PostgreSQL behind the fake Redshift Data API (sessions, ExecuteStatement with named parameters,
 * BatchExecuteStatement), the key as Secrets Manager would hand it over. The handler is the deployed one,
 * given these clients.
 */
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { createPipelineResources } from '../../src/adapters/provision.js';
import { pgRunner } from '../../src/analytics/pg-runner.js';
import { refreshWarehouse } from '../../src/analytics/refresh.js';
import { stripComments } from '../../src/analytics/sql-text.js';
import { loadFile } from '../../src/batch/load.js';
import { DEFAULT_LAKE_YEARS } from '../../src/config/transform.js';
import { customerPk } from '../../src/core/dynamo-items.js';
import { erasureRecordKey, newErasureKey } from '../../src/core/erasure.js';
import { ERASURE_KEYS_TABLE } from '../../src/erasure/warehouse.js';
import { createEraseHandler, type EraseDeps } from '../../src/handlers/erase.js';
import { duckQuery } from '../helpers/duckdb.js';
import { scanTable } from '../helpers/emulators.js';
import { type FakeRedshiftData, fakeRedshiftData } from '../helpers/fake-redshift-data.js';
import { LAKE_BUCKET, LAKE_PREFIX, type LoadBench, startLoadTargets } from '../helpers/load-targets.js';

jest.setTimeout(120_000);

const CUSTOMER = 17850;
const RECORD_BUCKET = 'ecomflow-test-raw';
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'online-retail-dirty.csv');
const TARGET = {
  database: 'dev',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
  workgroupName: 'ecomflow-test',
  clusterIdentifier: undefined,
};

let bench: LoadBench;
let redshift: FakeRedshiftData;
let deps: EraseDeps;
const silent = new Logger({ logLevel: 'SILENT' });

/** An erase request as the API queues it (src/core/erasure.ts erasureRequestEvent). */
const requestFor = (erasureId: string, customerId: number = CUSTOMER) => ({
  erasureId,
  customerId,
  requestedAt: '2026-12-03T17:00:00.000Z',
});

async function holdings() {
  const count = async (table: string) =>
    Number(
      (
        await bench.warehouse.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${table} WHERE customer_id = $1`,
          [CUSTOMER],
        )
      )[0]!.n,
    );
  const [lake] = await duckQuery(
    `SELECT count(*)::INTEGER AS n FROM ${await bench.lakeTable()} WHERE customer_id = ${CUSTOMER}`,
  );
  const customerItems = await bench.emu.dynamo.send(
    new QueryCommand({
      TableName: bench.emu.config.tables.customers,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': customerPk(CUSTOMER) },
    }),
  );
  const invoiceItems = (await scanTable(bench.emu.dynamo, bench.emu.config.tables.invoices)).filter(
    (item) => item['customer_id'] === CUSTOMER,
  );
  return {
    raw: await count('"raw".invoice_lines'),
    staging: await count('staging.invoice_lines'),
    rfm: await count('marts.customer_rfm'),
    lake: Number(lake!['n']),
    customerItems: customerItems.Items?.length ?? 0,
    invoiceItems: invoiceItems.length,
  };
}

const revenue = async () =>
  (
    await bench.warehouse.query<{ r: string }>(
      'SELECT CAST(sum(revenue) AS VARCHAR) AS r FROM marts.daily_revenue',
    )
  )[0]!.r;

beforeAll(async () => {
  // Prepare: the fixture in the lake, the warehouse (refreshed) and DynamoDB, as the AWS stores would hold it.
  bench = await startLoadTargets();
  await createPipelineResources({ s3: bench.emu.s3 }, { buckets: [RECORD_BUCKET] });
  await loadFile(
    FIXTURE,
    {
      ...bench.targets,
      dynamodb: { doc: bench.emu.dynamo, tables: bench.emu.config.tables, concurrency: 4 },
    },
    { manifestDir: join(bench.dir, 'loads') },
  );
  await refreshWarehouse(pgRunner(bench.warehouse, 'test warehouse'));
  redshift = fakeRedshiftData(bench.warehouseUrl, bench.emu.s3);
  const key = newErasureKey();
  deps = {
    config: {
      aws: bench.emu.config.aws,
      tables: bench.emu.config.tables,
      lake: { bucket: LAKE_BUCKET, prefix: LAKE_PREFIX },
      lakeYears: DEFAULT_LAKE_YEARS,
      recordBucket: RECORD_BUCKET,
      keySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-erasure-key-AbCdEf',
      redshift: TARGET,
      refreshTimeoutMs: 60_000,
    },
    dynamo: bench.emu.dynamo,
    s3: bench.emu.s3,
    redshift: redshift.client,
    key: async () => key,
  };
});
afterAll(async () => {
  await redshift?.close();
  await bench?.stop();
});

describe('the erase function', () => {
  it('erases the customer from every store through the Data API, keeps revenue, and records counts only', async () => {
    // Prepare
    const before = await holdings();
    expect(before.raw).toBeGreaterThan(0);
    expect(before.lake).toBeGreaterThan(0);
    expect(before.customerItems).toBeGreaterThan(0);
    const revenueBefore = await revenue();
    const erase = createEraseHandler(() => deps, silent);
    // Act
    const result = await erase(requestFor('20261203T170000Z-0a1b2c3d'));
    // Assess: nothing holds the id, and every revenue figure is the same.
    expect(await holdings()).toEqual({
      raw: 0,
      staging: 0,
      rfm: 0,
      lake: 0,
      customerItems: 0,
      invoiceItems: 0,
    });
    expect(await revenue()).toBe(revenueBefore);
    expect(result.record.touched.warehouse).toEqual({
      rawRows: before.raw,
      stagingRows: before.staging,
      storedRows: expect.any(Number),
      martsRefreshed: true,
    });
    const object = await bench.emu.s3.send(
      new GetObjectCommand({ Bucket: RECORD_BUCKET, Key: erasureRecordKey('20261203T170000Z-0a1b2c3d') }),
    );
    const text = await object.Body!.transformToString();
    expect(JSON.parse(text).customerHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(text).not.toContain(String(CUSTOMER));
  });

  it('binds the id as a parameter on one session, and runs the re-keying as one batch on it with no value in its text', () => {
    const inserts = redshift.statements.filter((s) => s.sql.startsWith(`INSERT INTO ${ERASURE_KEYS_TABLE}`));
    expect(inserts.length).toBeGreaterThan(0);
    for (const insert of inserts) expect(insert.parameters['p1']).toBe(String(CUSTOMER));
    const rekey = redshift.batches.find((b) => b.sqls.some((sql) => sql.includes(ERASURE_KEYS_TABLE)));
    expect(rekey?.sessionId).toBeDefined();
    expect(new Set([...inserts.map((s) => s.sessionId), rekey!.sessionId])).toEqual(
      new Set([rekey!.sessionId]),
    );
    for (const sql of [
      ...redshift.statements.map((s) => s.sql),
      ...redshift.batches.flatMap((b) => b.sqls),
    ]) {
      // The refresh's models name customer 17850 in their comments; no statement's code does.
      expect(stripComments(sql)).not.toContain(String(CUSTOMER));
    }
  });

  it('finds nothing to do when run again, as Lambda does after a failure', async () => {
    const erase = createEraseHandler(() => deps, silent);
    const again = await erase(requestFor('20261203T170001Z-0a1b2c3d'));
    expect(again.record.touched).toEqual({
      dynamodb: { customerItems: 0, lineItems: 0, stockItems: 0 },
      lake: { days: 0, lines: 0 },
      warehouse: { rawRows: 0, stagingRows: 0, storedRows: 0, martsRefreshed: true },
    });
  });

  it.each([
    [{}, /erasureId/],
    [{ ...requestFor('20261203T170000Z-0a1b2c3d'), customerId: '17850' }, /customerId/],
    [{ ...requestFor('20261203T170000Z-0a1b2c3d'), customerId: -1 }, /customerId/],
    [{ ...requestFor('20261203T170000Z-0a1b2c3d'), requestedAt: 'yesterday' }, /requestedAt/],
  ])('refuses a malformed request %j, naming the field', async (event, field) => {
    const erase = createEraseHandler(() => deps, silent);
    await expect(erase(event)).rejects.toThrow(field);
  });
});
