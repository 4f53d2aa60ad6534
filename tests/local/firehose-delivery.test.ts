/**
 * The local Firehose delivery behind the Firehose endpoint: buffering by size and by time, Parquet objects
 * under the event-time partitions of the lake, COPY into the warehouse, retries, and the spool that lets a
 * restart deliver what a crash left behind.
 *
 * The lake is a real s3rver. The warehouse is a recording fake: what is under test is what the delivery
 * hands to `copyLines`; the COPY itself is the warehouse adapter's, tested against PostgreSQL elsewhere.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { ndjsonRecord } from '../../src/adapters/firehose.js';
import { type PgWarehouse, RAW_TABLE } from '../../src/adapters/pg-warehouse.js';
import { createPipelineResources } from '../../src/adapters/provision.js';
import type { CleanLine } from '../../src/core/schema.js';
import {
  LocalFirehoseDelivery,
  lakePartitionPrefix,
  parseSegment,
  RefusedLineError,
  SegmentLineError,
  SPOOL_UNREADABLE_DIR,
  TornSpoolTailError,
  UnreadableSpoolSegmentError,
} from '../../src/local/firehose-delivery.js';
import { type Emulators, startEmulators } from '../helpers/emulators.js';
import { aCleanLine } from '../helpers/lines.js';
import { eventually, ROOT } from '../helpers/stack-process.js';

const BUCKET = 'lake';
const PREFIX = 'lake/invoice_lines/';
const ERRORS_PREFIX = 'errors/';

let emulators: Emulators;
let spoolDir: string;
let copied: { table: string; lines: CleanLine[] }[];
let failCopies: number;
/** Line ids the fake warehouse refuses as PostgreSQL refuses data (SQLSTATE 22021), whole COPY at a time. */
let refusedIds: Set<string>;
let errors: Error[];
let delivery: LocalFirehoseDelivery | undefined;

const warehouse = {
  copyLines: async (table: string, lines: Iterable<CleanLine>) => {
    if (failCopies > 0) {
      failCopies--;
      throw new Error('connection refused');
    }
    const batch = [...lines];
    if (batch.some((l) => refusedIds.has(l.line_id))) {
      throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
    }
    copied.push({ table, lines: batch });
    return copied.at(-1)!.lines.length;
  },
} as unknown as PgWarehouse;

beforeAll(async () => {
  emulators = await startEmulators();
  await createPipelineResources({ s3: emulators.s3 }, { buckets: [BUCKET] });
});
afterAll(async () => {
  await emulators.stop();
});
beforeEach(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'ecomflow-spool-'));
  copied = [];
  failCopies = 0;
  refusedIds = new Set();
  errors = [];
  delivery = undefined;
});
afterEach(async () => {
  await delivery?.flush();
  await rm(spoolDir, { recursive: true, force: true });
  // Each test reads only what it wrote: empty the bucket.
  for (const key of await lakeKeys()) {
    await emulators.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  }
});

function makeDelivery(options: { bufferMs?: number; bufferBytes?: number; refusedAttempts?: number } = {}) {
  delivery = new LocalFirehoseDelivery({
    lake: { stream: 'lake-stream', s3: emulators.s3, bucket: BUCKET, prefix: PREFIX },
    warehouse: { stream: 'warehouse-stream', warehouse, errors: { bucket: BUCKET, prefix: ERRORS_PREFIX } },
    spoolDir,
    onError: (err) => errors.push(err),
    ...options,
  });
  return delivery;
}

let lineCounter = 0;
function line(invoiceDate: string): CleanLine {
  const n = ++lineCounter;
  return aCleanLine({
    line_id: n.toString(16).padStart(32, '0'),
    invoice_no: String(536365 + n),
    invoice_date: invoiceDate,
  });
}

const records = (lines: CleanLine[]) => lines.map((l) => Buffer.from(ndjsonRecord(l)));

async function lakeKeys(): Promise<string[]> {
  const out = await emulators.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** line_ids of every lake object, by partition prefix. */
async function lakeLines(): Promise<Map<string, string[]>> {
  const byPartition = new Map<string, string[]>();
  for (const key of await lakeKeys()) {
    const object = await emulators.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = await object.Body!.transformToByteArray();
    const rows = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      columns: ['line_id'],
    });
    const partition = key.slice(0, key.lastIndexOf('/') + 1);
    byPartition.set(partition, [
      ...(byPartition.get(partition) ?? []),
      ...rows.map((r) => r['line_id'] as string),
    ]);
  }
  return byPartition;
}

describe('lakePartitionPrefix', () => {
  it("is the year=/month=/day= prefix of the line's invoice date, as dynamic partitioning writes it", () => {
    expect(lakePartitionPrefix(PREFIX, '2011-01-09T08:26:00Z')).toBe(`${PREFIX}year=2011/month=01/day=09/`);
  });
});

describe('the local Firehose delivery', () => {
  it('buffers by time, then writes one Parquet object per day partition and COPYs the lines', async () => {
    // Prepare
    const d = makeDelivery({ bufferMs: 300 });
    const december = [line('2010-12-01T08:26:00Z'), line('2010-12-01T09:00:00Z')];
    const january = [line('2011-01-05T10:00:00Z')];
    const all = [december[0]!, january[0]!, december[1]!];

    // Act
    d.deliver('lake-stream', records(all));
    d.deliver('warehouse-stream', records(all));
    const before = { keys: await lakeKeys(), copied: copied.length };
    await eventually(
      'the lake objects',
      async () => ((await lakeKeys()).length === 2 ? true : undefined),
      5_000,
      50,
    );
    await eventually('the COPY', async () => (copied.length === 1 ? true : undefined), 5_000, 50);

    // Assess
    expect(before).toEqual({ keys: [], copied: 0 });
    const lake = await lakeLines();
    expect([...lake.keys()]).toEqual([
      `${PREFIX}year=2010/month=12/day=01/`,
      `${PREFIX}year=2011/month=01/day=05/`,
    ]);
    expect(lake.get(`${PREFIX}year=2010/month=12/day=01/`)).toEqual(december.map((l) => l.line_id));
    expect(lake.get(`${PREFIX}year=2011/month=01/day=05/`)).toEqual(january.map((l) => l.line_id));
    expect((await lakeKeys()).every((k) => k.endsWith('.parquet'))).toBe(true);
    expect(copied).toEqual([{ table: RAW_TABLE, lines: all }]);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('delivers as soon as the buffer reaches its size, without waiting for the interval', async () => {
    // Prepare: a minute's interval, a 1 KB buffer.
    const d = makeDelivery({ bufferMs: 60_000, bufferBytes: 1024 });
    const lines = Array.from({ length: 6 }, () => line('2010-12-02T08:00:00Z'));

    // Act
    d.deliver('warehouse-stream', records(lines.slice(0, 1)));
    d.deliver('warehouse-stream', records(lines.slice(1)));
    await eventually('the COPY', async () => (copied.length === 1 ? true : undefined), 5_000, 20);

    // Assess
    expect(copied[0]!.lines).toEqual(lines);
  });

  it('delivers everything buffered on flush(), as at shutdown', async () => {
    // Prepare
    const d = makeDelivery({ bufferMs: 60_000 });
    const lines = [line('2010-12-03T08:00:00Z')];
    d.deliver('lake-stream', records(lines));
    d.deliver('warehouse-stream', records(lines));

    // Act
    await d.flush();

    // Assess
    expect(await lakeKeys()).toHaveLength(1);
    expect(copied).toEqual([{ table: RAW_TABLE, lines }]);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('keeps a failed delivery on disk and retries it until it succeeds', async () => {
    // Prepare
    const d = makeDelivery({ bufferMs: 100 });
    failCopies = 2;
    const lines = [line('2010-12-04T08:00:00Z'), line('2010-12-04T08:01:00Z')];

    // Act
    d.deliver('warehouse-stream', records(lines));
    await eventually(
      'the COPY after two failures',
      async () => (copied.length === 1 ? true : undefined),
      5_000,
      20,
    );

    // Assess
    expect(errors.map((e) => e.message)).toEqual(['connection refused', 'connection refused']);
    expect(copied).toEqual([{ table: RAW_TABLE, lines }]);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('delivers on the next start what a crashed process had accepted but not delivered', async () => {
    // Prepare: a child process accepts 5 lines on each stream, then is killed before its buffers flush.
    const lines = [
      ...Array.from({ length: 3 }, () => line('2010-12-05T08:00:00Z')),
      ...Array.from({ length: 2 }, () => line('2011-02-01T08:00:00Z')),
    ];
    const recordsDir = await mkdtemp(join(tmpdir(), 'ecomflow-records-'));
    const recordsFile = join(recordsDir, 'records.ndjson');
    await writeFile(recordsFile, lines.map((l) => JSON.stringify(l)).join('\n'));
    const script = `import('./tests/helpers/firehose-crash-child.ts').then((m) => m.run(${JSON.stringify([spoolDir, recordsFile])}))`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('spooled') && resolve());
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before spooling`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const spooled = await readdir(spoolDir);

    // Act
    const recovered = await makeDelivery({ bufferMs: 60_000 }).recover();

    // Assess
    expect(spooled.length).toBeGreaterThan(0);
    expect(recovered).toBe(10);
    const lake = await lakeLines();
    expect(lake.get(`${PREFIX}year=2010/month=12/day=05/`)?.sort()).toEqual(
      lines
        .slice(0, 3)
        .map((l) => l.line_id)
        .sort(),
    );
    expect(lake.get(`${PREFIX}year=2011/month=02/day=01/`)?.sort()).toEqual(
      lines
        .slice(3)
        .map((l) => l.line_id)
        .sort(),
    );
    expect(copied.flatMap((c) => c.lines)).toEqual(lines);
    expect(await readdir(spoolDir)).toEqual([]);
    await rm(recordsDir, { recursive: true, force: true });
  });

  it('drops a torn last line of a segment, reports it with the file and byte offset, and delivers the lines before it', async () => {
    // Prepare: two whole lines, then a third cut short by a crash during its append.
    const lines = [line('2010-12-06T08:00:00Z'), line('2010-12-06T08:01:00Z')];
    const whole = lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    const torn = JSON.stringify(line('2010-12-06T08:02:00Z')).slice(0, 40);
    const segment = join(spoolDir, 'warehouse-stream.1700000000000-000001.ndjson');
    await writeFile(segment, whole + torn);

    // Act
    const recovered = await makeDelivery({ bufferMs: 60_000 }).recover();

    // Assess
    expect(recovered).toBe(2);
    expect(copied).toEqual([{ table: RAW_TABLE, lines }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TornSpoolTailError);
    expect((errors[0] as TornSpoolTailError).offset).toBe(Buffer.byteLength(whole));
    expect(errors[0]!.message).toContain(segment);
    expect(errors[0]!.message).toContain(`at byte ${Buffer.byteLength(whole)}`);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('sets aside a segment with a line in the middle that is not JSON, naming file and line, and delivers the others', async () => {
    // Prepare
    const good = [line('2010-12-07T08:00:00Z')];
    const goodSegment = join(spoolDir, 'warehouse-stream.1700000000000-000002.ndjson');
    await writeFile(goodSegment, `${JSON.stringify(good[0])}\n`);
    const badText = `${JSON.stringify(line('2010-12-07T08:01:00Z'))}\n{"line_id": oops\n${JSON.stringify(line('2010-12-07T08:02:00Z'))}\n`;
    const badName = 'warehouse-stream.1700000000000-000001.ndjson';
    await writeFile(join(spoolDir, badName), badText);

    // Act
    const recovered = await makeDelivery({ bufferMs: 60_000 }).recover();

    // Assess: the good segment delivered and gone; the bad one whole in the unreadable folder.
    expect(recovered).toBe(1);
    expect(copied).toEqual([{ table: RAW_TABLE, lines: good }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnreadableSpoolSegmentError);
    expect(errors[0]!.message).toContain(`${join(spoolDir, badName)} line 2 `);
    expect(await readdir(spoolDir)).toEqual([SPOOL_UNREADABLE_DIR]);
    expect(await readFile(join(spoolDir, SPOOL_UNREADABLE_DIR, badName), 'utf8')).toBe(badText);
  });

  it('at stop, leaves a delivery that fails in the spool and schedules no retry', async () => {
    // Prepare
    const d = makeDelivery({ bufferMs: 60_000 });
    failCopies = 1_000;
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    d.deliver('warehouse-stream', records([line('2010-12-08T08:00:00Z')]));

    // Act
    await d.stop();

    // Assess: the error reported, the segment kept for the next start, no timer left to hold the process.
    expect(errors.map((e) => e.message)).toEqual(['connection refused']);
    expect(await readdir(spoolDir)).toHaveLength(1);
    expect(timers()).toBe(before);
    failCopies = 0;
    delivery = undefined;
  });
});

describe('parseSegment', () => {
  const a = JSON.stringify({ line_id: 'a' });
  const b = JSON.stringify({ line_id: 'b' });

  it('reads every line of a whole segment', () => {
    expect(parseSegment(Buffer.from(`${a}\n${b}\n`))).toEqual({
      lines: [{ line_id: 'a' }, { line_id: 'b' }],
      torn: null,
    });
  });

  it('keeps a last line that is whole JSON even without its newline', () => {
    expect(parseSegment(Buffer.from(`${a}\n${b}`)).lines).toEqual([{ line_id: 'a' }, { line_id: 'b' }]);
  });

  it('leaves out a torn last line, saying where it starts and how long it is', () => {
    const torn = '{"line_id":"b';
    expect(parseSegment(Buffer.from(`${a}\n${torn}`))).toEqual({
      lines: [{ line_id: 'a' }],
      torn: { offset: a.length + 1, bytes: torn.length },
    });
  });

  it('throws naming the line and offset of a line before the last that is not JSON', () => {
    // Act
    const parse = () => parseSegment(Buffer.from(`${a}\n\n{"line_id":\n${b}\n`));

    // Assess
    expect(parse).toThrow(SegmentLineError);
    expect(parse).toThrow(`line 3 (byte ${a.length + 2}) is not JSON`);
  });

  it('treats a last line that ends with its newline but is not JSON as damage, not a tear', () => {
    expect(() => parseSegment(Buffer.from(`${a}\n{"line_id":\n`))).toThrow(SegmentLineError);
  });
});

describe('a batch the warehouse keeps refusing as data', () => {
  it('is split until the refused line is alone; the good lines arrive and that line goes to errors/', async () => {
    // Prepare: seven lines in one batch, one of which the warehouse refuses whatever the attempt.
    const d = makeDelivery({ bufferMs: 20, refusedAttempts: 2 });
    const lines = Array.from({ length: 7 }, () => line('2010-12-04T08:00:00Z'));
    const poison = lines[4]!;
    refusedIds.add(poison.line_id);

    // Act
    d.deliver('warehouse-stream', records(lines));
    await eventually(
      'the refused line is set aside',
      async () => (d.diverted === 1 ? true : undefined),
      10_000,
    );
    await d.flush();

    // Assess
    expect(copied.flatMap((c) => c.lines.map((l) => l.line_id)).sort()).toEqual(
      lines
        .filter((l) => l !== poison)
        .map((l) => l.line_id)
        .sort(),
    );
    const keys = (
      await emulators.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: ERRORS_PREFIX }))
    ).Contents;
    expect(keys?.map((k) => k.Key)).toEqual([
      `${ERRORS_PREFIX}warehouse-stream/${new Date().toISOString().slice(0, 10)}/${poison.line_id}.json`,
    ]);
    const set = JSON.parse(
      await (
        await emulators.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: keys![0]!.Key! }))
      ).Body!.transformToString(),
    ) as { line: CleanLine; error: { code: string } };
    expect(set).toMatchObject({ line: { line_id: poison.line_id }, error: { code: '22021' } });
    expect(errors.some((e) => e instanceof RefusedLineError && e.lineId === poison.line_id)).toBe(true);
    expect(await readdir(spoolDir)).toEqual([]);
    // What GET /health's detail says of it.
    expect(d.health()).toMatchObject({
      delivered: { warehouse: 6 },
      retrying_batches: 0,
      refused_lines: 1,
      last_refused: { line_id: poison.line_id, object: `s3://${BUCKET}/${keys![0]!.Key!}` },
    });
    await emulators.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: keys![0]!.Key! }));
  });

  it('keeps retrying a warehouse that is down: no code, no split, nothing set aside', async () => {
    const d = makeDelivery({ bufferMs: 20, refusedAttempts: 1 });
    failCopies = 5;
    const lines = Array.from({ length: 3 }, () => line('2010-12-05T08:00:00Z'));
    d.deliver('warehouse-stream', records(lines));
    await eventually(
      'the warehouse is back and takes the batch',
      async () => (copied.length > 0 ? true : undefined),
      10_000,
    );
    expect(copied).toHaveLength(1);
    expect(copied[0]!.lines).toHaveLength(3);
    expect(d.diverted).toBe(0);
  });
});
