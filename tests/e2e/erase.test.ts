/**
 * Customer erasure on the running local stack, over HTTP and the CLI only: `ecomflow erase` after the
 * lines went through the stream path, then DELETE /customers/{id} for lines posted again.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import { createS3Client } from '../../src/adapters/s3.js';
import { LOCAL_RESOURCES, STATE_FILE_MODE } from '../../src/config/local.js';
import { erasureRecordKey } from '../../src/core/erasure.js';
import { ERASURE_KEY_FILE } from '../../src/local/erasure-key.js';
import { readStackInfo } from '../../src/local/stack.js';
import { duckQuery } from '../helpers/duckdb.js';
import {
  cleanUp,
  eventually,
  makeHome,
  ROOT,
  runCli,
  type StackProcess,
  stackEnv,
  startStackProcess,
  warehouseQuery,
} from '../helpers/stack-process.js';

jest.setTimeout(180_000);

const CUSTOMER = '17850';
const FIXTURE = join(ROOT, 'tests', 'fixtures', 'online-retail-dirty.csv');

let home: string;
let vars: Record<string, string>;
let stack: StackProcess;

beforeAll(async () => {
  home = await makeHome();
  vars = await stackEnv(home);
  stack = await startStackProcess(vars);
});
afterAll(async () => {
  await cleanUp(stack, home);
});

const headers = () => ({ 'x-api-key': stack.apiKey });
const customerStatus = async () =>
  (await fetch(`${stack.apiUrl}/customers/${CUSTOMER}`, { headers: headers() })).status;

/** The customer's lines in the lake, read by DuckDB straight from s3rver's files. */
async function lakeHolds(): Promise<number> {
  const info = await readStackInfo(home);
  const [row] = await duckQuery(
    `SELECT count(*)::INTEGER AS n FROM read_parquet('${info.lakeGlob}') WHERE customer_id = ${CUSTOMER}`,
  );
  return Number(row!['n']);
}

async function warehouseHolds(table: string): Promise<number> {
  const [row] = await warehouseQuery(
    `SELECT count(*) AS n FROM ${table} WHERE customer_id = ${CUSTOMER}`,
    vars,
  );
  return Number(row!['n']);
}

async function postAndWait(): Promise<number> {
  const csv = await readFile(FIXTURE, 'utf8');
  const posted = await fetch(`${stack.apiUrl}/ingest`, {
    method: 'POST',
    headers: { ...headers(), 'content-type': 'text/csv; charset=utf-8' },
    body: csv,
  });
  expect(posted.status).toBe(202);
  await eventually('DynamoDB has the customer', async () =>
    (await customerStatus()) === 200 ? true : undefined,
  );
  const lake = await eventually('the lake has their lines', async () => {
    const n = await lakeHolds().catch(() => 0);
    return n > 0 ? n : undefined;
  });
  await eventually('the warehouse has their lines', async () =>
    (await warehouseHolds('"raw".invoice_lines')) === lake ? true : undefined,
  );
  expect((await runCli(['refresh'], vars)).code).toBe(0);
  expect(await warehouseHolds('marts.customer_rfm')).toBe(1);
  return lake;
}

async function revenue(): Promise<string> {
  const [row] = await warehouseQuery(
    'SELECT CAST(sum(revenue) AS VARCHAR) AS total FROM marts.daily_revenue',
    vars,
  );
  return String(row!['total']);
}

async function readRecord(key: string): Promise<string | undefined> {
  const info = await readStackInfo(home);
  const s3 = createS3Client({ region: LOCAL_RESOURCES.region, endpoints: info.endpoints });
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: LOCAL_RESOURCES.rawBucket, Key: key }));
    return await object.Body!.transformToString();
  } catch {
    return undefined;
  } finally {
    s3.destroy();
  }
}

function expectNothingHeld() {
  return Promise.all([
    customerStatus().then((s) => expect(s).toBe(404)),
    lakeHolds().then((n) => expect(n).toBe(0)),
    ...['"raw".invoice_lines', 'staging.invoice_lines', 'marts.customer_rfm'].map(async (table) =>
      expect({ table, n: await warehouseHolds(table) }).toEqual({ table, n: 0 }),
    ),
  ]);
}

it('ecomflow erase leaves no store holding the customer, keeps revenue, and keeps a record without the id', async () => {
  // Prepare
  const lines = await postAndWait();
  const before = await revenue();
  // Act
  const result = await runCli(['erase', CUSTOMER, '--json'], vars);
  // Assess
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const printed = JSON.parse(result.stdout) as { recordKey: string; touched: { lake: { lines: number } } };
  expect(printed.touched.lake.lines).toBe(lines);
  await expectNothingHeld();
  expect(await revenue()).toBe(before);
  const record = await readRecord(printed.recordKey);
  expect(record).toBeDefined();
  expect(record).not.toContain(CUSTOMER);
  expect((await stat(join(home, ERASURE_KEY_FILE))).mode & 0o777).toBe(STATE_FILE_MODE);
  // Every store re-keyed the lines alike: the audit finds each day the same in all of them.
  const audit = await runCli(['audit'], vars);
  expect({ code: audit.code, stderr: audit.stderr }).toEqual({ code: 0, stderr: '' });
});

it('DELETE /customers/{id} answers 202 and the stack erases the customer after the answer', async () => {
  // Prepare: the same lines posted again bring the customer back.
  await postAndWait();
  // Act
  const response = await fetch(`${stack.apiUrl}/customers/${CUSTOMER}`, {
    method: 'DELETE',
    headers: headers(),
  });
  // Assess
  expect(response.status).toBe(202);
  const body = (await response.json()) as { erasure_id: string; record: string };
  expect(body.record).toBe(erasureRecordKey(body.erasure_id));
  const record = await eventually('the erasure record', () => readRecord(body.record), 60_000);
  expect(record).not.toContain(CUSTOMER);
  await expectNothingHeld();
});
