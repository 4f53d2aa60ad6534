/**
 * Compaction against s3rver, read back through DuckDB's `invoice_lines` as an analyst reads it: one object
 * per day, each line once, the same sum, idempotent, and whole after a SIGKILL between write and delete.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import { s3LakeStore } from '../../src/adapters/lake-store.js';
import { LAKE_RAW_TABLE } from '../../src/analytics/models.js';
import { generateCsv } from '../../src/core/generate.js';
import type { CleanLine } from '../../src/core/schema.js';
import { compactLake } from '../../src/lake/compact.js';
import { COMPACTION_DEFAULTS, parseCompactedName } from '../../src/lake/compaction.js';
import { ParquetLineWriter } from '../../src/lake/parquet.js';
import { lakePartition } from '../../src/lake/partition.js';
import { LocalLake } from '../../src/local/lake.js';
import { cleanLines } from '../helpers/analytics.js';
import { type Emulators, startEmulators } from '../helpers/emulators.js';

jest.setTimeout(120_000);

const ROOT = resolve(import.meta.dirname, '../..');
const PREFIX = 'lake/invoice_lines/';
// The generated lines' years (the counts below would miss any line outside them): fewer listings a run.
const YEARS = { first: 2010, last: 2011 };
let emulators: Emulators;
let lines: CleanLine[];
let testNo = 0;

beforeAll(async () => {
  emulators = await startEmulators();
  const dir = await mkdtemp(join(tmpdir(), 'ecomflow-compact-'));
  const csv = join(dir, 'generated.csv');
  await writeFile(csv, `${[...generateCsv({ rows: 3_000, seed: 5 })].join('\n')}\n`);
  // A dozen days are enough to show every rule, and keep each test's lake to about 60 objects.
  const all = await cleanLines(csv);
  const days = [...new Set(all.map((l) => l.invoice_date.slice(0, 10)))].sort().slice(0, 12);
  lines = all.filter((l) => days.includes(l.invoice_date.slice(0, 10)));
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await emulators?.stop();
});

/** A bucket of its own per test, filled as Firehose fills it: several small objects a day, some lines twice. */
async function firehoseLake(): Promise<{ bucket: string; store: ReturnType<typeof s3LakeStore> }> {
  const bucket = `lake-${++testNo}`;
  await emulators.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // Four "flushes" over all the lines, and a fifth re-delivering every seventh line.
  const flushes = [0, 1, 2, 3].map((n) => lines.filter((_, i) => i % 4 === n));
  flushes.push(lines.filter((_, i) => i % 7 === 0));
  for (const [n, flush] of flushes.entries()) {
    const byPartition = new Map<string, CleanLine[]>();
    for (const line of flush) {
      const key = `${PREFIX}${lakePartition(line.invoice_date)}`;
      byPartition.set(key, [...(byPartition.get(key) ?? []), line]);
    }
    for (const [partition, group] of byPartition) {
      const writer = ParquetLineWriter.inMemory();
      for (const line of group) writer.append(line);
      await emulators.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${partition}ecomflow-lake-flush-${n}.parquet`,
          Body: writer.close(),
        }),
      );
    }
  }
  return { bucket, store: s3LakeStore(emulators.s3, bucket, PREFIX, YEARS) };
}

/** What an analyst sees, and what is physically there. */
async function lakeFigures(bucket: string) {
  const lake = await LocalLake.open(join(emulators.s3Dir, bucket, PREFIX, '**', '*._S3rver_object'));
  try {
    const [shown] = await lake.query(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT line_id) AS ids, SUM(line_total) AS total FROM invoice_lines',
    );
    const [raw] = await lake.query(`SELECT COUNT(*) AS n FROM ${LAKE_RAW_TABLE}`);
    return {
      lines: Number(shown!['n']),
      distinct: Number(shown!['ids']),
      total: String(shown!['total']),
      rawRows: Number(raw!['n']),
    };
  } finally {
    lake.close();
  }
}

async function objectsPerPartition(store: ReturnType<typeof s3LakeStore>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const partition of await store.listPartitions()) {
    out.set(
      partition,
      (await store.list(partition)).map((o) => o.key),
    );
  }
  return out;
}

const uniqueCount = () => new Set(lines.map((l) => l.line_id)).size;

describe('compactLake on s3rver', () => {
  it('leaves one object per day, each line once, with the same count and sum as before', async () => {
    // Prepare
    const { bucket, store } = await firehoseLake();
    const before = await lakeFigures(bucket);
    const days = (await objectsPerPartition(store)).size;
    // Act
    const report = await compactLake(store, { prefix: PREFIX, minAgeMs: 0 });
    // Assess
    expect(before.rawRows).toBeGreaterThan(uniqueCount());
    expect(before.lines).toBe(uniqueCount());
    const after = await lakeFigures(bucket);
    expect(after).toEqual({ ...before, rawRows: uniqueCount() });
    const objects = await objectsPerPartition(store);
    expect(objects.size).toBe(days);
    for (const keys of objects.values()) {
      expect(keys).toHaveLength(1);
      expect(parseCompactedName(keys[0]!)).not.toBeNull();
    }
    expect(report.compacted).toBe(days);
    expect(report.duplicatesDropped).toBe(before.rawRows - uniqueCount());
    expect(report.objectsAfter).toBe(days);
  });

  it('changes nothing when run twice', async () => {
    const { bucket, store } = await firehoseLake();
    await compactLake(store, { prefix: PREFIX, minAgeMs: 0 });
    const first = await objectsPerPartition(store);
    // Act
    const report = await compactLake(store, { prefix: PREFIX, minAgeMs: 0 });
    // Assess
    expect(await objectsPerPartition(store)).toEqual(first);
    expect(report.compacted).toBe(0);
    expect(report.partitions.every((p) => p.action === 'settled')).toBe(true);
    expect((await lakeFigures(bucket)).lines).toBe(uniqueCount());
  });

  it('leaves objects younger than the minimum age alone', async () => {
    const { store } = await firehoseLake();
    const before = await objectsPerPartition(store);
    // Act: the objects were written just now.
    const report = await compactLake(store, { prefix: PREFIX, minAgeMs: COMPACTION_DEFAULTS.minAgeMs });
    // Assess
    expect(await objectsPerPartition(store)).toEqual(before);
    expect(report.partitions.every((p) => p.action === 'wait')).toBe(true);
  });

  it('compacts only the day it is given', async () => {
    const { store } = await firehoseLake();
    const before = await objectsPerPartition(store);
    const day = lines[0]!.invoice_date.slice(0, 10);
    const partition = `${PREFIX}${lakePartition(day)}`;
    // Act
    await compactLake(store, { prefix: PREFIX, minAgeMs: 0, day });
    // Assess
    const after = await objectsPerPartition(store);
    expect(after.get(partition)).toHaveLength(1);
    for (const [p, keys] of after) if (p !== partition) expect(keys).toEqual(before.get(p));
  });

  it('loses and doubles no line when killed between writing and deleting, then run again', async () => {
    // Prepare: a child compacts, writes the first day's new object, and is killed before deleting.
    const { bucket, store } = await firehoseLake();
    const before = await lakeFigures(bucket);
    const script = `import('./tests/helpers/compact-child.ts').then((m) => m.run(${JSON.stringify([
      emulators.env['ECOMFLOW_S3_ENDPOINT'],
      bucket,
      PREFIX,
      JSON.stringify(YEARS),
    ])}))`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const written = await new Promise<string[]>((done, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        const match = /written (.+)/.exec(d.toString());
        if (match) done(match[1]!.trim().split(' '));
      });
      child.once('exit', (code) => fail(new Error(`the child exited (${code}) before writing`)));
    });
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
    const crashed = await lakeFigures(bucket);

    // Act
    await compactLake(store, { prefix: PREFIX, minAgeMs: 0 });

    // Assess: during the crash, the day's lines were twice on disk and once in the view.
    expect(written).toHaveLength(1);
    expect(crashed.lines).toBe(uniqueCount());
    expect(crashed.rawRows).toBeGreaterThan(before.rawRows);
    const after = await lakeFigures(bucket);
    expect(after).toEqual({ ...before, rawRows: uniqueCount() });
    for (const keys of (await objectsPerPartition(store)).values()) expect(keys).toHaveLength(1);
    // The generation the crash left is gone: the next run merged it with the inputs it was made from.
    const remaining = [...(await objectsPerPartition(store)).values()].flat();
    expect(remaining).not.toContain(written[0]);
  });
});
