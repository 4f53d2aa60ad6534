/**
 * The batch load on AWS, end to end, against the emulators: an upload under incoming/ runs the real state
 * machine definition against the real batch handler, with S3 on s3rver and Redshift faked over the
 * embedded PostgreSQL (no Redshift emulator exists: see tests/helpers/fake-redshift-data.ts). Asserted: the
 * parts and quarantine written, the COPY and merge SQL issued, the warehouse's lines, the status, and that
 * repeating or resuming a load changes nothing.
 */
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mergeLoadTableSql, RAW_SCHEMA, RAW_TABLE } from '../../../src/adapters/pg-warehouse.js';
import { listKeys, readJson } from '../../../src/adapters/s3-objects.js';
import { SOURCE_ID_METADATA, sourceIdOf } from '../../../src/batch/aws/plan.js';
import { type LoadPlan, loadKeys, type RangeResult } from '../../../src/batch/aws/records.js';
import { copyStatements } from '../../../src/batch/aws/redshift-load.js';
import { cleanStream } from '../../../src/batch/source.js';
import type { Rejection } from '../../../src/core/clean.js';
import { csvLine } from '../../../src/core/csv.js';
import { generateCsv } from '../../../src/core/generate.js';
import {
  type QuarantineRecord,
  quarantineNamePrefix,
  quarantineRecord,
} from '../../../src/core/quarantine.js';
import type { CleanLine } from '../../../src/core/schema.js';
import {
  type BatchBench,
  COPY_ROLE_ARN,
  LAKE_BUCKET,
  RAW_BUCKET,
  REDSHIFT_TARGET,
  startBatchBench,
} from '../../helpers/batch-load.js';

let bench: BatchBench;

beforeAll(async () => {
  bench = await startBatchBench();
}, 120_000);

afterAll(async () => {
  await bench?.stop();
});

beforeEach(async () => {
  await bench.warehouse.query(`TRUNCATE ${RAW_TABLE}`);
  bench.redshift.batches.length = 0;
});

/** A UCI-shaped CSV with bad rows, exact duplicates and descriptions that span two physical lines. */
function sampleCsv(seed: number, rows = 1200): Buffer {
  const lines = [...generateCsv({ rows, seed, dirty: 0.03, style: 'uci' })];
  for (let i = 0; i < 4; i++) {
    const at = 1 + Math.floor(((i + 1) * lines.length) / 5);
    lines.splice(
      at,
      0,
      csvLine([
        `5800${seed % 10}${i}`,
        '22086',
        `PAPER CHAIN KIT\n 50'S "CHRISTMAS", ${i}`,
        '80',
        '12/1/2010 9:02',
        '2.55',
        '17850',
        'United Kingdom',
      ]),
    );
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

/** What one pass of the core over the whole file gives: the reference for every load. */
async function singlePass(bytes: Buffer) {
  const lines: CleanLine[] = [];
  const rejections: Rejection[] = [];
  const { report } = await cleanStream(
    [bytes],
    { line: (l) => lines.push(l), reject: (r) => rejections.push(r) },
    { name: 's3://ecomflow-test-raw/incoming/x', dedupe: true },
  );
  return { report, lineIds: lines.map((l) => l.line_id).sort(), rejections };
}

async function text(bucket: string, key: string): Promise<string> {
  const object = await bench.emu.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

function sourceIdFor(name: string, bytes: Buffer, etag: string): string {
  return sourceIdOf({ bucket: RAW_BUCKET, key: `incoming/${name}`, size: bytes.length, etag }, {});
}

describe('batch load of an upload, split into byte ranges', () => {
  it('cleans every range in parallel into the lake and the quarantine, then COPYs and merges', async () => {
    // Prepare
    const bytes = sampleCsv(11);
    const reference = await singlePass(bytes);
    await bench.upload('split.csv', bytes, { [SOURCE_ID_METADATA]: '0123456789abcdef' });
    const sourceId = '0123456789abcdef';
    const keys = loadKeys(sourceId);

    // Act
    const execution = await bench.run('split.csv');

    // Assess: the execution went plan -> ranges -> load, with several ranges.
    expect(execution.status).toBe('SUCCEEDED');
    const status = (await bench.status(sourceId))!;
    expect(status).toMatchObject({ phase: 'done', mode: 'split', error: null });
    expect(status.ranges).toBeGreaterThanOrEqual(5);
    expect(execution.history.filter((s) => s === 'CleanRanges/CleanRange')).toHaveLength(status.ranges);

    // The report: the single pass's counts, but duplicates only within ranges (see docs/scaling.md).
    expect(status.report).toMatchObject({
      rows_read: reference.report.rows_read,
      quarantined: reference.report.quarantined,
      by_reason: reference.report.by_reason,
    });
    expect(status.report!.rows_clean + status.report!.duplicates).toBe(
      reference.report.rows_clean + reference.report.duplicates,
    );

    // The lake: exactly the parts the ranges recorded, named by source and range, under date partitions.
    const ranges = await Promise.all(
      Array.from({ length: status.ranges }, (_, i) =>
        readJson<RangeResult>(bench.emu.s3, RAW_BUCKET, keys.range(i)),
      ),
    );
    // In range order, as the COPY manifest lists them.
    const recorded = ranges.flatMap((r) => r!.parts.map((p) => p.key));
    expect(await bench.lakeKeys(sourceId)).toEqual([...recorded].sort());
    for (const key of recorded) {
      expect(key).toMatch(
        /^lake\/invoice_lines\/year=\d{4}\/month=\d{2}\/day=\d{2}\/batch-0123456789abcdef-r\d{4}-\d{4}\.parquet$/,
      );
    }
    expect(status.lake).toMatchObject({
      bucket: LAKE_BUCKET,
      parts: recorded.length,
      rows: status.report!.rows_clean,
    });

    // Redshift: one COPY of this load's manifest (only its parts), then the shared merge.
    expect(bench.redshift.batches.map((b) => b.sqls)).toEqual([
      copyStatements(
        { manifestUrl: `s3://${RAW_BUCKET}/${keys.manifest}`, loadTable: `${RAW_SCHEMA}.load_${sourceId}` },
        COPY_ROLE_ARN,
      ),
      [mergeLoadTableSql(`${RAW_SCHEMA}.load_${sourceId}`), `DROP TABLE "raw".load_${sourceId}`],
    ]);
    expect(bench.redshift.batches[0]?.sqls[2]).toBe(
      `COPY "raw".load_${sourceId} FROM 's3://${RAW_BUCKET}/loads/${sourceId}/copy.manifest' IAM_ROLE '${COPY_ROLE_ARN}' FORMAT AS PARQUET MANIFEST`,
    );
    expect(bench.redshift.batches[0]).toMatchObject({
      database: REDSHIFT_TARGET.database,
      workgroupName: REDSHIFT_TARGET.workgroupName,
      secretArn: REDSHIFT_TARGET.secretArn,
    });
    const manifest = JSON.parse(await text(RAW_BUCKET, keys.manifest)) as { entries: { url: string }[] };
    expect(manifest.entries.map((e) => e.url)).toEqual(recorded.map((k) => `s3://${LAKE_BUCKET}/${k}`));

    // The warehouse holds each distinct line once; the merge dropped the duplicates that crossed ranges.
    expect(await bench.rawLineIds()).toEqual(reference.lineIds);
    expect(status.warehouse).toEqual({
      target: 'redshift ecomflow-test/dev',
      copied: status.report!.rows_clean,
      inserted: reference.lineIds.length,
    });

    // The quarantine: the single pass's rows, with the line numbers of the whole file.
    const quarantined = (
      await Promise.all(
        (await listKeys(bench.emu.s3, RAW_BUCKET, status.quarantine!.prefix)).map((k) => text(RAW_BUCKET, k)),
      )
    ).join('');
    const source = `s3://${RAW_BUCKET}/incoming/split.csv`;
    // Each record as the contract builds it; only the time it was written is the run's own.
    const untimed = ({ quarantined_at, ...rest }: { quarantined_at: string }) => rest;
    const records = quarantined
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as QuarantineRecord);
    expect(records.every((r) => !Number.isNaN(Date.parse(r.quarantined_at)))).toBe(true);
    expect(records.map(untimed)).toEqual(
      reference.rejections.map((r) =>
        untimed(quarantineRecord(r, { source: 'batch', object: source }, new Date())),
      ),
    );
    // Under the day of the plan, in the quarantine table's layout.
    const plan = JSON.parse(await text(RAW_BUCKET, keys.plan)) as LoadPlan;
    const plannedDay = plan.plannedAt!.slice(0, 10);
    expect(status.quarantine).toEqual({
      bucket: RAW_BUCKET,
      prefix: `quarantine/${quarantineNamePrefix('batch', plannedDay, `${sourceId}-`)}`,
      rows: reference.report.quarantined,
    });
  });

  it('is idempotent: the same upload again writes the same parts, keeps the status, and adds no line', async () => {
    // Prepare
    const bytes = sampleCsv(12);
    await bench.upload('twice.csv', bytes, { [SOURCE_ID_METADATA]: '1111111111111111' });
    expect((await bench.run('twice.csv')).status).toBe('SUCCEEDED');
    const firstStatus = await bench.status('1111111111111111');
    const firstParts = await bench.lakeKeys('1111111111111111');
    const firstLines = await bench.rawLineIds();
    bench.redshift.batches.length = 0;

    // Act
    await bench.upload('twice.csv', bytes, { [SOURCE_ID_METADATA]: '1111111111111111' });
    const again = await bench.run('twice.csv');

    // Assess
    expect(again.status).toBe('SUCCEEDED');
    expect(again.history).toEqual(['Plan', 'AlreadyLoaded', 'Loaded']);
    expect(await bench.status('1111111111111111')).toEqual(firstStatus);
    expect(await bench.lakeKeys('1111111111111111')).toEqual(firstParts);
    expect(await bench.rawLineIds()).toEqual(firstLines);
    expect(bench.redshift.batches).toEqual([]);
  });

  it('resumes an interrupted load: finished ranges are kept, the rest is redone, nothing doubles', async () => {
    // Prepare: a load that ran to the end, then lose what an interruption would lose: the final status,
    // the warehouse merge, and one range's result (as if its invocation had died before recording it).
    const bytes = sampleCsv(13);
    const sourceId = '2222222222222222';
    const keys = loadKeys(sourceId);
    await bench.upload('resume.csv', bytes, { [SOURCE_ID_METADATA]: sourceId });
    expect((await bench.run('resume.csv')).status).toBe('SUCCEEDED');
    const parts = await bench.lakeKeys(sourceId);
    const lines = await bench.rawLineIds();
    const kept = await readJson<RangeResult>(bench.emu.s3, RAW_BUCKET, keys.range(0));
    await bench.deleteObject(RAW_BUCKET, keys.status);
    await bench.deleteObject(RAW_BUCKET, keys.range(2));
    await bench.warehouse.query(`TRUNCATE ${RAW_TABLE}`);

    // Act
    const resumed = await bench.run('resume.csv');

    // Assess
    expect(resumed.status).toBe('SUCCEEDED');
    expect(await readJson<RangeResult>(bench.emu.s3, RAW_BUCKET, keys.range(0))).toEqual(kept);
    expect(await bench.lakeKeys(sourceId)).toEqual(parts);
    expect(await bench.rawLineIds()).toEqual(lines);
    expect((await bench.status(sourceId))?.phase).toBe('done');

    // And once more with the warehouse already holding everything: copied again, nothing inserted.
    await bench.deleteObject(RAW_BUCKET, keys.status);
    expect((await bench.run('resume.csv')).status).toBe('SUCCEEDED');
    expect((await bench.status(sourceId))?.warehouse?.inserted).toBe(0);
    expect(await bench.rawLineIds()).toEqual(lines);
  });

  it('retries the load step when the warehouse aborts a transaction (a serialisation conflict)', async () => {
    const bytes = sampleCsv(14, 300);
    await bench.upload('conflict.csv', bytes, { [SOURCE_ID_METADATA]: '3333333333333333' });
    bench.redshift.failNext(
      /^INSERT INTO "raw"\.invoice_lines/,
      'ERROR: 1023 Serializable isolation violation on table',
    );

    const execution = await bench.run('conflict.csv');

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.history).toContain('Load#retry1');
    expect(await bench.rawLineIds()).toEqual((await singlePass(bytes)).lineIds);
  });
});

describe('batch load of an upload that is not split', () => {
  it('cleans a gzip upload in one pass, with the part names of a local load of the same file', async () => {
    // Prepare
    const bytes = sampleCsv(15, 400);
    const gz = gzipSync(bytes);
    await bench.upload('one.csv.gz', gz, { [SOURCE_ID_METADATA]: '4444444444444444' });

    // Act
    const execution = await bench.run('one.csv.gz');

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const status = (await bench.status('4444444444444444'))!;
    const reference = await singlePass(bytes);
    expect(status).toMatchObject({ phase: 'done', mode: 'gzip', ranges: 1, report: reference.report });
    const parts = await bench.lakeKeys('4444444444444444');
    expect(parts.length).toBeGreaterThan(0);
    for (const key of parts) expect(key).toMatch(/\/batch-4444444444444444-\d{4}\.parquet$/);
    expect(await bench.rawLineIds()).toEqual(reference.lineIds);
  });

  it('names an upload that carries no source id by its key, ETag and size', async () => {
    const bytes = sampleCsv(16, 200);
    await bench.upload('plain.csv', bytes);
    const head = await bench.emu.s3.send(
      new GetObjectCommand({ Bucket: RAW_BUCKET, Key: 'incoming/plain.csv' }),
    );
    await head.Body!.transformToByteArray();
    const sourceId = sourceIdFor('plain.csv', bytes, head.ETag!);

    expect((await bench.run('plain.csv')).status).toBe('SUCCEEDED');

    expect((await bench.status(sourceId))?.mode).toBe('single');
  });
});

describe('batch load failures', () => {
  it('fails a file with no usable header without retrying, and says why in the status', async () => {
    const bytes = Buffer.from('a,b,c\n1,2,3\n');
    await bench.upload('bad-header.csv', bytes, { [SOURCE_ID_METADATA]: '5555555555555555' });

    const execution = await bench.run('bad-header.csv');

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('HeaderError');
    expect(execution.history.filter((s) => s.includes('#retry'))).toEqual([]);
    const status = await bench.status('5555555555555555');
    expect(status).toMatchObject({ phase: 'failed', error: { name: 'HeaderError' } });
    expect(status?.error?.message).toMatch(/header/i);
  });

  it('refuses at planning a gzip upload too large for one invocation, naming the limit', async () => {
    const gz = gzipSync(sampleCsv(17, 300));
    await bench.upload('huge.csv.gz', gz, { [SOURCE_ID_METADATA]: '6666666666666666' });

    const execution = await bench.run('huge.csv.gz', { gzipMaxBytes: 1024 });

    expect(execution.status).toBe('FAILED');
    expect(execution.history).toEqual(['Plan', 'RecordPlanFailure', 'Failed']);
    const status = await bench.status('6666666666666666');
    expect(status).toMatchObject({ phase: 'failed', error: { name: 'UnloadableObjectError' } });
    expect(status?.error?.message).toMatch(/gzip cannot be split.*at most 0\.0 MiB.*upload it uncompressed/i);
  });
});
