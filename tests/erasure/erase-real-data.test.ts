import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { scanLineFigures } from '../../src/adapters/dynamodb.js';
import { s3LakeStore } from '../../src/adapters/lake-store.js';
import { pgRunner } from '../../src/analytics/pg-runner.js';
import { refreshWarehouse } from '../../src/analytics/refresh.js';
import { loadFile } from '../../src/batch/load.js';
import { DEFAULT_LAKE_YEARS } from '../../src/config/transform.js';
import { customerPk } from '../../src/core/dynamo-items.js';
import { newErasureKey } from '../../src/core/erasure.js';
import { type ErasureResult, type ErasureStores, eraseCustomer } from '../../src/erasure/erase.js';
import { pgErasureWarehouse, STORED_ROWS_TABLE } from '../../src/erasure/warehouse.js';
import { compactLake } from '../../src/lake/compact.js';
import { duckQuery } from '../helpers/duckdb.js';
import { LAKE_BUCKET, LAKE_PREFIX, type LoadBench, startLoadTargets } from '../helpers/load-targets.js';
import { describeWithRealData, REAL_DATA } from '../helpers/real-data.js';

const CUSTOMER = 17850;

describeWithRealData('erasing customer 17850 after a load of the real data', () => {
  let bench: LoadBench;
  let stores: ErasureStores;
  let oldIds: string[];
  let rawRowsBefore: number;
  let before: Figures;
  let result: ErasureResult;
  let records: Map<string, string>;

  /** DuckDB straight over s3rver's files: the lake's Parquet objects, read by an independent reader. */
  const lakeFiles = () =>
    `read_parquet('${join(bench.emu.s3Dir, LAKE_BUCKET, LAKE_PREFIX)}**/*.parquet._S3rver_object')`;

  interface Figures {
    lake: { lines: number; total: string; guests: number };
    staging: { lines: number; total: string; guests: number };
    raw: { lines: number };
    revenue: string;
    dynamodb: { lines: number; total: string };
  }

  async function figures(): Promise<Figures> {
    const [lake] = (await duckQuery(
      `SELECT count(*)::INTEGER AS lines, sum(line_total)::VARCHAR AS total,
              count(*) FILTER (WHERE customer_id IS NULL)::INTEGER AS guests FROM ${lakeFiles()}`,
    )) as Figures['lake'][];
    const [staging] = await bench.warehouse.query<Figures['staging']>(
      `SELECT count(*)::int AS lines, CAST(sum(line_total) AS VARCHAR) AS total,
              count(*) FILTER (WHERE customer_id IS NULL)::int AS guests FROM staging.invoice_lines`,
    );
    const [raw] = await bench.warehouse.query<Figures['raw']>(
      'SELECT count(*)::int AS lines FROM "raw".invoice_lines',
    );
    const [revenue] = await bench.warehouse.query<{ revenue: string }>(
      'SELECT CAST(sum(revenue) AS VARCHAR) AS revenue FROM marts.daily_revenue',
    );
    let lines = 0;
    let milli = 0;
    for await (const line of scanLineFigures(bench.emu.dynamo, bench.emu.config.tables.invoices)) {
      lines++;
      milli += Math.round(line.line_total * 1000);
    }
    return {
      lake: lake!,
      staging: staging!,
      raw: raw!,
      revenue: revenue!.revenue,
      dynamodb: { lines, total: (milli / 1000).toFixed(3) },
    };
  }

  beforeAll(async () => {
    // Prepare: the real data in the lake and the warehouse (staging and marts refreshed). DynamoDB gets
    // the real rows of every day the customer bought on, theirs and everyone else's: dynalite takes more
    // than ten minutes for the whole file's 1.3 million items, and the other days hold nothing to erase.
    bench = await startLoadTargets();
    const tables = bench.emu.config.tables;
    await loadFile(REAL_DATA, bench.targets, { manifestDir: join(bench.dir, 'loads') });
    const days = (
      await bench.warehouse.query<{ day: string }>(
        'SELECT DISTINCT CAST(CAST(invoice_date AS DATE) AS VARCHAR(10)) AS day FROM "raw".invoice_lines WHERE customer_id = $1',
        [CUSTOMER],
      )
    ).map((r) => r.day);
    const [header, ...rows] = gunzipSync(await readFile(REAL_DATA))
      .toString('utf8')
      .split('\n');
    const ofTheirDays = join(bench.dir, 'their-days.csv');
    await writeFile(
      ofTheirDays,
      [header, ...rows.filter((row) => days.some((day) => row.includes(`,${day} `)))].join('\n'),
    );
    await loadFile(
      ofTheirDays,
      { ...bench.targets, dynamodb: { doc: bench.emu.dynamo, tables, concurrency: 8 } },
      { manifestDir: join(bench.dir, 'loads') },
    );
    // The second load wrote those days' lines to the lake again: one compaction first, so that the
    // figures before and after count each line once.
    await compactLake(s3LakeStore(bench.emu.s3, LAKE_BUCKET, LAKE_PREFIX, DEFAULT_LAKE_YEARS), {
      prefix: LAKE_PREFIX,
      minAgeMs: 0,
    });
    const refresh = () => refreshWarehouse(pgRunner(bench.warehouse, 'test warehouse'));
    await refresh();
    records = new Map();
    stores = {
      dynamodb: { doc: bench.emu.dynamo, tables },
      lake: {
        store: s3LakeStore(bench.emu.s3, LAKE_BUCKET, LAKE_PREFIX, DEFAULT_LAKE_YEARS),
        prefix: LAKE_PREFIX,
      },
      warehouse: pgErasureWarehouse(bench.warehouse),
      refresh,
      writeRecord: async (key, record) => {
        const text = JSON.stringify(record);
        records.set(key, text);
        await bench.emu.s3.send(new PutObjectCommand({ Bucket: LAKE_BUCKET, Key: key, Body: text }));
      },
      key: newErasureKey(),
    };
    oldIds = (
      (await duckQuery(`SELECT DISTINCT line_id FROM ${lakeFiles()} WHERE customer_id = ${CUSTOMER}`)) as {
        line_id: string;
      }[]
    ).map((r) => r.line_id);
    before = await figures();
    // Raw keeps both loads' rows of the customer's lines: the second load replaced those invoices.
    const [raw] = await bench.warehouse.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM "raw".invoice_lines WHERE customer_id = $1',
      [CUSTOMER],
    );
    rawRowsBefore = raw!.n;
    // Act
    result = await eraseCustomer(stores, CUSTOMER);
    // The lake after the next compaction of every day, as the issue asks.
    await compactLake(stores.lake.store, { prefix: LAKE_PREFIX, minAgeMs: 0 });
    console.log(
      `erased ${CUSTOMER} in ${(result.ms / 1000).toFixed(1)} s: ${JSON.stringify(result.record.touched)}`,
    );
  }, 600_000);

  afterAll(async () => {
    await bench?.stop();
  });

  it('leaves no DynamoDB item holding the customer, nor their old line ids', async () => {
    const { doc, tables } = stores.dynamodb;
    const customerItems = await doc.send(
      new QueryCommand({
        TableName: tables.customers,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': customerPk(CUSTOMER) },
      }),
    );
    expect(customerItems.Items).toEqual([]);
    for (const table of [tables.invoices, tables.customers]) {
      let held = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: table,
            FilterExpression: 'customer_id = :id OR contains(sk, :id_text) OR contains(pk, :id_text)',
            ExpressionAttributeValues: { ':id': CUSTOMER, ':id_text': String(CUSTOMER) },
            ExclusiveStartKey: startKey,
          }),
        );
        held += page.Items?.length ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      expect({ table, held }).toEqual({ table, held: 0 });
    }
    const ids = new Set(oldIds);
    for await (const line of scanLineFigures(doc, tables.invoices)) expect(ids.has(line.line_id)).toBe(false);
  });

  it('leaves no Parquet file holding the customer or an old line id (DuckDB over the files)', async () => {
    expect(oldIds.length).toBeGreaterThan(0);
    const [held] = await duckQuery(
      `SELECT count(*) FILTER (WHERE customer_id = ${CUSTOMER})::INTEGER AS customer,
              count(*) FILTER (WHERE line_id IN (${oldIds.map((id) => `'${id}'`).join(', ')}))::INTEGER AS old_ids
       FROM ${lakeFiles()}`,
    );
    expect(held).toEqual({ customer: 0, old_ids: 0 });
  });

  it('leaves no raw, staging or mart row holding the customer', async () => {
    for (const table of ['"raw".invoice_lines', 'staging.invoice_lines', 'marts.customer_rfm']) {
      const [row] = await bench.warehouse.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE customer_id = $1`,
        [CUSTOMER],
      );
      expect({ table, n: row!.n }).toEqual({ table, n: 0 });
    }
    for (const table of ['"raw".invoice_lines', 'staging.invoice_lines', STORED_ROWS_TABLE]) {
      const [row] = await bench.warehouse.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE line_id = ANY($1)`,
        [oldIds],
      );
      expect({ table, n: row!.n }).toEqual({ table, n: 0 });
    }
  });

  it('keeps every line, as a guest line, so revenue does not change in any store', async () => {
    const after = await figures();
    const erased = oldIds.length;
    expect(after.lake).toEqual({ ...before.lake, guests: before.lake.guests + erased });
    expect(after.staging).toEqual({ ...before.staging, guests: before.staging.guests + erased });
    expect(after.raw).toEqual(before.raw);
    expect(after.revenue).toBe(before.revenue);
    expect(after.dynamodb).toEqual(before.dynamodb);
  });

  it('keeps a record with the keyed hash and counts of what was touched, never the id', () => {
    const text = records.get(result.recordKey);
    expect(text).toBeDefined();
    expect(text).not.toContain(String(CUSTOMER));
    const touched = result.record.touched;
    expect(touched.dynamodb.customerItems).toBe(oldIds.length);
    expect(touched.dynamodb.lineItems).toBe(oldIds.length);
    expect(touched.dynamodb.stockItems).toBeGreaterThan(0);
    expect(touched.lake.days).toBeGreaterThan(0);
    expect(touched.lake.lines).toBe(oldIds.length);
    expect(rawRowsBefore).toBe(2 * oldIds.length);
    expect(touched.warehouse).toEqual({
      rawRows: rawRowsBefore,
      stagingRows: oldIds.length,
      storedRows: rawRowsBefore,
      martsRefreshed: true,
    });
  });

  it('can run again: a second erasure finds nothing and changes nothing', async () => {
    const again = await eraseCustomer(stores, CUSTOMER);
    expect(again.record.touched).toEqual({
      dynamodb: { customerItems: 0, lineItems: 0, stockItems: 0 },
      lake: { days: 0, lines: 0 },
      warehouse: { rawRows: 0, stagingRows: 0, storedRows: 0, martsRefreshed: true },
    });
    expect(again.record.customerHash).toBe(result.record.customerHash);
  });
});
