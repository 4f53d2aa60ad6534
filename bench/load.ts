/**
 * Issue "Batch path": `ecomflow load` of the full real data into the local lake and warehouse, beside the
 * reference of the same run (clean to Parquet, plus `psql \copy` of the same lines into the same
 * PostgreSQL), and the `--dynamodb` fill rate beside the emulator's own ceiling.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { baseClientConfig } from '../src/adapters/aws.js';
import { batchWrite, createDocumentClient } from '../src/adapters/dynamodb.js';
import { PgWarehouse } from '../src/adapters/pg-warehouse.js';
import { createS3Client } from '../src/adapters/s3.js';
import { tableDefinitions } from '../src/adapters/table-definitions.js';
import { loadFile } from '../src/batch/load.js';
import { cleanFile } from '../src/batch/source.js';
import { csvLine } from '../src/core/csv.js';
import { type ItemWrite, itemsForLine } from '../src/core/dynamo-items.js';
import { GENERATED_HEADER } from '../src/core/generate.js';
import { type CleanLine, COLUMN_NAMES, createLineTableSql } from '../src/core/schema.js';
import { startEmbeddedPostgres } from '../src/local/embedded-postgres.js';
import { startEmulators } from '../src/local/emulators.js';
import { fmtMs, measureProcess, OUT, ratio, timed } from './lib.js';

const TABLES = { invoices: 'bench-invoices', customers: 'bench-customers' };

export async function benchLoad(realData: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ecomflow-bench-load-'));
  chmodSync(dir, 0o755);
  const emulators = await startEmulators(join(dir, 'emulators'), { kinesis: 0, dynamodb: 0, s3: 0 });
  const local = await startEmbeddedPostgres({
    dataDir: join(dir, 'warehouse'),
    port: 15600 + Math.floor(Math.random() * 300),
  });
  const warehouse = new PgWarehouse(local.connectionString);
  const aws = { region: 'us-east-1', endpoints: emulators.endpoints };
  const s3: S3Client = createS3Client(aws);
  await s3.send(new CreateBucketCommand({ Bucket: 'bench-lake' }));
  const lines: string[] = [];
  try {
    // 1. ecomflow load (lake + warehouse), in-process, on a fresh manifest.
    const load = await timed(() =>
      loadFile(
        realData,
        {
          lake: {
            put: async (key, body) =>
              void (await s3.send(new PutObjectCommand({ Bucket: 'bench-lake', Key: key, Body: body }))),
          },
          lakePrefix: 'lake/invoice_lines/',
          warehouse,
        },
        { manifestDir: join(dir, 'loads') },
      ),
    );

    // 2. Reference: clean to Parquet with the CLI, then psql \copy of the same lines into the same server.
    const clean = await measureProcess([
      'bin/ecomflow.js',
      'clean',
      realData,
      '--out',
      join(OUT, 'load-ref'),
    ]);
    const csv = join(dir, 'lines.csv');
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    await connection.run(
      `COPY (SELECT ${COLUMN_NAMES.join(', ')} FROM read_parquet('${join(OUT, 'load-ref', 'lines.parquet')}')) TO '${csv}' (FORMAT csv, HEADER false)`,
    );
    connection.closeSync();
    duck.closeSync();
    await warehouse.query(
      `DROP TABLE IF EXISTS public.copy_reference; ${createLineTableSql('public.copy_reference')}`,
    );
    const psql = await timed(() =>
      execFileSync(
        'psql',
        [
          local.connectionString,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy public.copy_reference (${COLUMN_NAMES.join(', ')}) FROM '${csv}' (FORMAT csv)`,
        ],
        {
          stdio: 'pipe',
        },
      ),
    );
    const reference = clean.ms + psql.ms;

    lines.push(
      '### Batch load of the real data (`loadFile`, lake + warehouse, no `--dynamodb`)',
      '',
      '| figure | ecomflow | reference (same run) | ratio | goal |',
      '|---|---|---|---|---|',
      `| load 541,909 rows into the lake (s3rver) and the warehouse (COPY + merge) | ${fmtMs(load.ms)} | ${fmtMs(reference)} = clean to Parquet ${fmtMs(clean.ms)} + \`psql \\copy\` ${fmtMs(psql.ms)} | ${ratio(load.ms, reference)} | ≤ 2× |`,
      `| lake parts written | ${load.value.lake.parts} | | | |`,
      '',
    );

    // 3. DynamoDB fill: our batching against dynalite, beside dynalite's ceiling for the same items.
    const dynamo = new DynamoDBClient(baseClientConfig(aws, 'dynamodb'));
    for (const table of tableDefinitions(TABLES)) await dynamo.send(new CreateTableCommand(table));
    dynamo.destroy();
    const doc = createDocumentClient(aws);
    const sample: CleanLine[] = [];
    await cleanFile(realData, {
      line: (l) => void (sample.length < 50_000 && sample.push(l)),
      reject: () => {},
    });
    const sampleFile = join(dir, 'sample.csv');
    // The fill goes through loadFile with --dynamodb, on the first 50,000 lines (the full file takes minutes).
    const rows = sample.map((l) =>
      csvLine([
        l.invoice_no,
        l.stock_code,
        l.description ?? '',
        String(l.quantity),
        l.invoice_date,
        String(l.unit_price),
        String(l.customer_id ?? ''),
        l.country,
      ]),
    );
    writeFileSync(sampleFile, `${GENERATED_HEADER}\n${rows.join('\n')}\n`);
    const fill = await timed(() =>
      loadFile(
        sampleFile,
        {
          lake: { put: async () => {} },
          lakePrefix: 'fill/',
          warehouse,
          dynamodb: { doc, tables: TABLES, concurrency: 8 },
        },
        { manifestDir: join(dir, 'loads-fill') },
      ),
    );
    const writes = typeof fill.value.dynamodb === 'object' ? fill.value.dynamodb.writes : 0;
    // Ceiling: the same items, pre-built, written with 16 BatchWriteItem requests in flight and nothing else.
    const items: ItemWrite[] = sample.flatMap(itemsForLine);
    const ceiling = await timed(async () => {
      const chunks: ItemWrite[][] = [];
      for (let i = 0; i < items.length; i += 2_000) chunks.push(items.slice(i, i + 2_000));
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < chunks.length) await batchWrite(doc, TABLES, chunks[next++]!, { concurrency: 4 });
        }),
      );
    });
    doc.destroy();
    lines.push(
      '### DynamoDB fill (`--dynamodb`, first 50,000 clean lines, dynalite)',
      '',
      '| figure | items/s | note |',
      '|---|---|---|',
      `| \`loadFile\` with \`--dynamodb\` (lake writes skipped) | ${Math.round(writes / (fill.ms / 1000)).toLocaleString('en-US')} | ${writes.toLocaleString('en-US')} writes in ${fmtMs(fill.ms)}, including the file read, clean and warehouse COPY |`,
      `| dynalite ceiling: the same items, pre-built, 16 requests in flight, nothing else | ${Math.round(items.length / (ceiling.ms / 1000)).toLocaleString('en-US')} | ${items.length.toLocaleString('en-US')} writes in ${fmtMs(ceiling.ms)} |`,
      '',
    );
    return lines.join('\n');
  } finally {
    s3.destroy();
    await warehouse.close();
    await local.stop();
    await emulators.stop();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
  }
}
