/**
 * The batch path and the streaming path give the same lake: the same rows, posted through the API and
 * carried by Kinesis, the transformer and the local Firehose delivery, or loaded as a file by
 * `loadFile`, end up as the same line ids with the same values.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { loadFile } from '../../src/batch/load.js';
import { generateCsv } from '../../src/core/generate.js';
import { COLUMN_NAMES } from '../../src/core/schema.js';
import { handler as apiHandler } from '../../src/handlers/api.js';
import { handler as transformHandler } from '../../src/handlers/transform.js';
import { LocalFirehoseDelivery } from '../../src/local/firehose-delivery.js';
import { duckQuery } from '../helpers/duckdb.js';
import { StreamReader } from '../helpers/emulators.js';
import { ingestEvent, kinesisEvent, lambdaContext } from '../helpers/events.js';
import { LAKE_BUCKET, type LoadBench, startLoadTargets } from '../helpers/load-targets.js';

const STREAM_PREFIX = 'stream/invoice_lines/';
let bench: LoadBench;
const savedEnv = { ...process.env };

beforeAll(async () => {
  bench = await startLoadTargets();
  Object.assign(process.env, bench.emu.env);
}, 60_000);

afterAll(async () => {
  process.env = savedEnv;
  await bench.stop();
});

it('gives the same line ids and values in the lake from the stream as from the batch load', async () => {
  // Prepare: one generated file, with duplicates and a few bad rows.
  const csv = `${[...generateCsv({ rows: 2_000, seed: 77, dirty: 0.01 })].join('\n')}\n`;
  const file = join(bench.dir, 'agree.csv');
  await writeFile(file, csv);

  // Act, stream: POST → Kinesis → transform → Firehose → local delivery into the lake.
  const posted = (await apiHandler(
    ingestEvent('text/csv', Buffer.from(csv)),
    lambdaContext(),
  )) as APIGatewayProxyResult;
  expect(posted.statusCode).toBe(202);
  const reader = new StreamReader(bench.emu.kinesis, bench.emu.config.streamName);
  for (const records of (await reader.next()).values()) {
    expect((await transformHandler(kinesisEvent(records))).batchItemFailures).toEqual([]);
  }
  const delivery = new LocalFirehoseDelivery({
    lake: {
      stream: bench.emu.env['LAKE_DELIVERY_STREAM']!,
      s3: bench.emu.s3,
      bucket: LAKE_BUCKET,
      prefix: STREAM_PREFIX,
    },
    warehouse: { stream: bench.emu.env['WAREHOUSE_DELIVERY_STREAM']!, warehouse: bench.warehouse },
    spoolDir: join(bench.dir, 'spool'),
  });
  delivery.deliver(
    bench.emu.env['LAKE_DELIVERY_STREAM']!,
    bench.emu.delivered.get(bench.emu.env['LAKE_DELIVERY_STREAM']!) ?? [],
  );
  await delivery.flush();

  // Act, batch: the same file through loadFile.
  const loaded = await loadFile(file, bench.targets, { manifestDir: join(bench.dir, 'loads') });

  // Assess: the distinct lines are the same, value for value.
  const columns = COLUMN_NAMES.map((c) => `${c}::VARCHAR AS ${c}`).join(', ');
  const streamRows = await duckQuery(
    `SELECT DISTINCT ${columns} FROM ${await bench.lakeTable(STREAM_PREFIX)} ORDER BY line_id`,
  );
  const batchRows = await duckQuery(
    `SELECT DISTINCT ${columns} FROM ${await bench.lakeTable()} ORDER BY line_id`,
  );
  expect(batchRows).toHaveLength(loaded.report.rows_clean);
  expect(streamRows).toEqual(batchRows);
}, 120_000);
