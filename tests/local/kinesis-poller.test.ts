/**
 * The local Kinesis poller against kinesalite, with a scripted handler in place of `transform`: it must
 * behave as the event source mapping does (batch size, batchItemFailures, bisect on a function error,
 * the on-failure destination after the retries, checkpoints across restarts).
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { putRecords } from '../../src/adapters/kinesis.js';
import { StateFileError } from '../../src/files.js';
import { KinesisPoller, readCheckpoints, type TransformHandler } from '../../src/local/kinesis-poller.js';
import { type Emulators, startEmulators } from '../helpers/emulators.js';
import { eventually } from '../helpers/stack-process.js';

let emulators: Emulators;
let dir: string;
let poller: KinesisPoller | undefined;
/** The payloads of each invocation, in order. */
let invocations: string[][];

beforeEach(async () => {
  emulators = await startEmulators({ shards: 1 });
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-poller-'));
  invocations = [];
  poller = undefined;
});
afterEach(async () => {
  await poller?.stop();
  await emulators.stop();
  await rm(dir, { recursive: true, force: true });
});

function payloads(event: KinesisStreamEvent): string[] {
  return event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8'));
}

/** A handler that records each invocation and answers with `respond`. */
function scripted(
  respond: (records: string[], event: KinesisStreamEvent) => KinesisStreamBatchResponse | 'throw',
) {
  const handler: TransformHandler = async (event) => {
    const records = payloads(event);
    invocations.push(records);
    const response = respond(records, event);
    if (response === 'throw') throw new Error(`function error on ${records.join(',')}`);
    return response;
  };
  return handler;
}

const ok = (): KinesisStreamBatchResponse => ({ batchItemFailures: [] });

async function put(count: number, from = 0): Promise<void> {
  const records = Array.from({ length: count }, (_, i) => ({
    partitionKey: 'pk',
    data: Buffer.from(`r${from + i}`),
  }));
  await putRecords(emulators.kinesis, emulators.config.streamName, records);
}

async function startPoller(
  handler: TransformHandler,
  batchSize: number,
  maximumRetryAttempts = 3,
  maxEventBytes?: number,
) {
  poller = new KinesisPoller({
    kinesis: emulators.kinesis,
    streamName: emulators.config.streamName,
    streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
    region: 'us-east-1',
    handler,
    checkpointFile: join(dir, 'checkpoints.json'),
    deadLetterFile: join(dir, 'dead-letter.ndjson'),
    idleMs: 10,
    batchSize,
    maximumRetryAttempts,
    ...(maxEventBytes === undefined ? {} : { maxEventBytes }),
  });
  await poller.start();
  return poller;
}

/** Every payload handed to a successful invocation or reported done, once each, in order. */
function succeeded(): string[] {
  return invocations.flat();
}

describe('the local Kinesis poller', () => {
  it('invokes the handler with Kinesis Lambda events of at most batchSize records, in order', async () => {
    // Prepare
    await put(7);
    let event: KinesisStreamEvent | undefined;

    // Act
    await startPoller(
      scripted((_, e) => {
        event ??= e;
        return ok();
      }),
      3,
    );
    await eventually('7 records processed', async () => (poller!.processed === 7 ? true : undefined));

    // Assess
    expect(invocations).toEqual([['r0', 'r1', 'r2'], ['r3', 'r4', 'r5'], ['r6']]);
    const record = event!.Records[0]!;
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventName: 'aws:kinesis:record',
      eventVersion: '1.0',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'pk' },
    });
    expect(record.eventID).toBe(`shardId-000000000000:${record.kinesis.sequenceNumber}`);
    expect(typeof record.kinesis.approximateArrivalTimestamp).toBe('number');
  });

  it('cuts a page into invocations at the payload limit as well as at batchSize, in order', async () => {
    // Prepare: six records of 3,000 bytes; an event record of one is about 4,400 bytes of JSON.
    const big = Array.from({ length: 6 }, (_, i) => ({
      partitionKey: 'pk',
      data: Buffer.alloc(3_000, 97 + i),
    }));
    await putRecords(emulators.kinesis, emulators.config.streamName, big);
    const sizes: number[][] = [];

    // Act: room for two records an invocation.
    await startPoller(
      async (event) => {
        sizes.push(event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').length));
        invocations.push(payloads(event).map((p) => p[0]!));
        return ok();
      },
      10,
      3,
      10_000,
    );
    await eventually('6 records processed', async () => (poller!.processed === 6 ? true : undefined));

    // Assess
    expect(invocations).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
    expect(sizes.flat()).toEqual(Array(6).fill(3_000));
  });

  it('has the last batch checkpointed on disk before it hands over the next, so a kill repeats at most one batch', async () => {
    // Prepare
    await put(9);
    const file = join(dir, 'checkpoints.json');
    /** What the checkpoint file held as each batch arrived, and the last sequence number of each batch. */
    const onDisk: (string | undefined)[] = [];
    const lastOfBatch: string[] = [];

    // Act
    await startPoller(async (event) => {
      const saved = await readFile(file, 'utf8').catch(() => undefined);
      onDisk.push(
        saved === undefined ? undefined : Object.values(JSON.parse(saved) as Record<string, string>)[0],
      );
      lastOfBatch.push(event.Records.at(-1)!.kinesis.sequenceNumber);
      return ok();
    }, 3);
    await eventually('9 records processed', async () => (poller!.processed === 9 ? true : undefined));

    // Assess
    expect(onDisk).toEqual([undefined, lastOfBatch[0], lastOfBatch[1]]);
  });

  it('retries from the record named in batchItemFailures, never the ones before it', async () => {
    // Prepare
    await put(5);
    let failed = false;

    // Act: the first invocation reports r2 as not finished.
    await startPoller(
      scripted((records, event) => {
        if (!failed && records.includes('r2')) {
          failed = true;
          return { batchItemFailures: [{ itemIdentifier: event.Records[2]!.kinesis.sequenceNumber }] };
        }
        return ok();
      }),
      10,
    );
    await eventually('5 records processed', async () => (poller!.processed === 5 ? true : undefined));

    // Assess
    expect(invocations).toEqual([
      ['r0', 'r1', 'r2', 'r3', 'r4'],
      ['r2', 'r3', 'r4'],
    ]);
  });

  it('bisects a batch on a function error, and sends the record that keeps failing to the dead-letter file', async () => {
    // Prepare
    await put(8);

    // Act: any batch holding r5 throws.
    await startPoller(
      scripted((records) => (records.includes('r5') ? 'throw' : ok())),
      10,
      3,
    );
    await eventually(
      'the other 7 records processed',
      async () => (poller!.processed === 7 ? true : undefined),
      10_000,
      20,
    );
    const deadLetters = await eventually('a dead letter', async () => {
      const text = await readFile(join(dir, 'dead-letter.ndjson'), 'utf8').catch(() => '');
      return text
        ? text
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Record<string, never>)
        : undefined;
    });

    // Assess: halves, then quarters, then r5 alone until its attempts run out.
    expect(invocations).toEqual([
      ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
      ['r0', 'r1', 'r2', 'r3'],
      ['r4', 'r5', 'r6', 'r7'],
      ['r4', 'r5'],
      ['r4'],
      ['r5'],
      ['r6', 'r7'],
    ]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', functionError: 'function error on r5' },
      KinesisBatchInfo: { shardId: 'shardId-000000000000', batchSize: 1 },
    });
  });

  it('dead-letters the rest of a batch whose batchItemFailures never clear, then moves on', async () => {
    // Prepare
    await put(5);

    // Act: r2 is never finished.
    await startPoller(
      scripted((records, event) => {
        const at = records.indexOf('r2');
        return at === -1
          ? ok()
          : { batchItemFailures: [{ itemIdentifier: event.Records[at]!.kinesis.sequenceNumber }] };
      }),
      10,
      2,
    );
    await eventually(
      'the dead letter',
      async () => (await readFile(join(dir, 'dead-letter.ndjson'), 'utf8').catch(() => '')) || undefined,
    );
    await put(1, 5);
    await eventually('the next record processed', async () =>
      succeeded().includes('r5') ? true : undefined,
    );

    // Assess
    expect(invocations).toEqual([
      ['r0', 'r1', 'r2', 'r3', 'r4'],
      ['r2', 'r3', 'r4'],
      ['r2', 'r3', 'r4'],
      ['r5'],
    ]);
    const [letter] = (await readFile(join(dir, 'dead-letter.ndjson'), 'utf8')).trim().split('\n');
    expect(JSON.parse(letter!)).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', functionError: null },
      KinesisBatchInfo: {
        batchSize: 3,
        approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
    });
  });

  it('keeps its checkpoints across a restart: nothing is delivered twice, new records are', async () => {
    // Prepare
    await put(4);
    await startPoller(scripted(ok), 10);
    await eventually('4 records processed', async () => (poller!.processed === 4 ? true : undefined));
    await poller!.stop();
    invocations = [];

    // Act
    await put(2, 4);
    await startPoller(scripted(ok), 10);
    await eventually('2 new records processed', async () => (poller!.processed === 2 ? true : undefined));

    // Assess
    expect(invocations).toEqual([['r4', 'r5']]);
  });

  it('replaces its checkpoint file by a rename, never rewriting it in place', async () => {
    // Prepare
    await put(2);
    await startPoller(scripted(ok), 1);
    await eventually('2 records processed', async () => (poller!.processed === 2 ? true : undefined));
    await poller!.stop();
    const file = join(dir, 'checkpoints.json');
    const before = await stat(file);

    // Act
    await put(1, 2);
    await startPoller(scripted(ok), 1);
    await eventually('1 new record processed', async () => (poller!.processed === 1 ? true : undefined));
    await poller!.stop();

    // Assess: a new inode (a rename over the old file), valid JSON, no temporary file left beside it.
    const after = await stat(file);
    expect(after.ino).not.toBe(before.ino);
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    expect(Object.values(saved)).toHaveLength(1);
    expect(await readdir(dir)).not.toContain('checkpoints.json.tmp');
  });
});

describe('the checkpoint file', () => {
  it('is "no checkpoints yet" when it does not exist', async () => {
    // Act
    const checkpoints = await readCheckpoints(join(dir, 'none.json'));

    // Assess
    expect(checkpoints).toEqual({});
  });

  it('reads back what the poller saved', async () => {
    // Prepare
    const file = join(dir, 'checkpoints.json');
    await writeFile(file, JSON.stringify({ 'shardId-000000000000': '4959' }));

    // Act
    const checkpoints = await readCheckpoints(file);

    // Assess
    expect(checkpoints).toEqual({ 'shardId-000000000000': '4959' });
  });

  it.each([
    ['empty', '', /is empty/],
    ['torn JSON', '{"shardId-000000000000":"49', /is not valid JSON/],
    ['an array', '[]', /holds an array/],
    ['a number as a sequence number', '{"shardId-000000000000":5}', /shardId-000000000000 has 5/],
    ['null', 'null', /holds null/],
  ])('%s stops the poller from starting, naming the file and what to do', async (_, text, problem) => {
    // Prepare
    const file = join(dir, 'checkpoints.json');
    await writeFile(file, text);
    const handler = scripted(ok);

    // Act
    const started = startPoller(handler, 10);

    // Assess
    await expect(started).rejects.toThrow(StateFileError);
    await expect(started).rejects.toThrow(problem);
    await expect(started).rejects.toThrow(`${file} `);
    await expect(started).rejects.toThrow(/delete it to process the stream again from its start/);
    expect(invocations).toEqual([]);
    // The file is left as it was, for the user to look at.
    expect(await readFile(file, 'utf8')).toBe(text);
  });
});
