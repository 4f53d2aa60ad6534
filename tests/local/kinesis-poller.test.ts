/**
 * The local Kinesis poller against kinesalite, with a scripted handler in place of `transform`: it must
 * behave as the event source mapping does (batch size, batchItemFailures, bisect on a function error,
 * the on-failure destination after the retries, checkpoints across restarts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { putRecords } from '../../src/adapters/kinesis.js';
import { KinesisPoller, type TransformHandler } from '../../src/local/kinesis-poller.js';
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

async function startPoller(handler: TransformHandler, batchSize: number, maximumRetryAttempts = 3) {
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
});
