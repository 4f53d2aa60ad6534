import type { PutRecordsCommandInput, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { KinesisPutError, StreamRangeGoneError } from '../../src/adapters/errors.js';
import {
  KINESIS_LIMITS,
  kinesisRangeReader,
  putRecords,
  type StreamRecord,
} from '../../src/adapters/kinesis.js';
import { type Emulators, StreamReader, startEmulators } from '../helpers/emulators.js';
import { FAST_RETRY, interceptCommand, serviceError } from '../helpers/faults.js';

let emu: Emulators;
let removers: (() => void)[];

beforeAll(async () => {
  emu = await startEmulators({ shards: 2 });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  removers = [];
});
afterEach(() => {
  for (const remove of removers) remove();
});

/** Records each request's entry count and byte size, letting it through. */
function recordRequests(): { count: number; bytes: number }[] {
  const requests: { count: number; bytes: number }[] = [];
  removers.push(
    interceptCommand<PutRecordsCommandInput, PutRecordsCommandOutput>(
      emu.kinesis,
      'PutRecordsCommand',
      (input, next) => {
        const records = input.Records ?? [];
        requests.push({
          count: records.length,
          bytes: records.reduce(
            (n, r) => n + (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? ''),
            0,
          ),
        });
        return next(input);
      },
    ),
  );
  return requests;
}

function record(i: number, size = 20): StreamRecord {
  return { partitionKey: `inv-${i % 17}`, data: Buffer.alloc(size, 97 + (i % 26)) };
}

describe('putRecords', () => {
  it('sends at most 500 records a request, and every record reaches the stream', async () => {
    const requests = recordRequests();
    const reader = new StreamReader(emu.kinesis, emu.config.streamName);
    await reader.next();
    // Act
    const result = await putRecords(
      emu.kinesis,
      emu.config.streamName,
      Array.from({ length: 1_201 }, (_, i) => record(i)),
    );
    // Assess
    expect(result).toEqual({ records: 1_201, attempts: 1 });
    expect(requests.map((r) => r.count)).toEqual([500, 500, 201]);
    expect(await reader.all()).toHaveLength(1_201);
  });

  it('keeps each request within 5 MiB, partition keys included', async () => {
    const requests = recordRequests();
    const records = Array.from({ length: 12 }, (_, i) => record(i, 600 * 1024));
    await putRecords(emu.kinesis, emu.config.streamName, records);
    expect(requests.reduce((n, r) => n + r.count, 0)).toBe(12);
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) expect(r.bytes).toBeLessThanOrEqual(KINESIS_LIMITS.maxRequestBytes);
  });

  it('leaves a throttled request to the SDK, and does not resend one that failed for good', async () => {
    // Prepare: the first attempt is throttled below the SDK's retries; then a missing stream is a client error.
    let calls = 0;
    removers.push(
      interceptCommand<PutRecordsCommandInput, PutRecordsCommandOutput>(
        emu.kinesis,
        'PutRecordsCommand',
        async (input, next) => {
          calls++;
          if (calls === 1) throw serviceError('ProvisionedThroughputExceededException', 400, 'client');
          return next(input);
        },
        'deserialize',
      ),
    );
    // Act
    const ok = await putRecords(emu.kinesis, emu.config.streamName, [record(1)], FAST_RETRY);
    const missing = putRecords(emu.kinesis, 'no-such-stream', [record(1), record(2)], FAST_RETRY);
    // Assess: the SDK retried the throttled attempt inside one round of ours.
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(ok.attempts).toBe(1);
    await expect(missing).rejects.toMatchObject({
      name: 'KinesisPutError',
      acknowledged: [false, false],
      attempts: 1,
      failures: [
        expect.objectContaining({ index: 0, errorCode: 'ResourceNotFoundException' }),
        expect.objectContaining({ index: 1, errorCode: 'ResourceNotFoundException' }),
      ],
    });
  });

  it('gives up after maxAttempts, saying which records were acknowledged', async () => {
    // Prepare: entry 1 always fails.
    removers.push(
      interceptCommand<PutRecordsCommandInput, PutRecordsCommandOutput>(
        emu.kinesis,
        'PutRecordsCommand',
        async (input, next) => {
          const records = input.Records ?? [];
          const failing = (data: Uint8Array | undefined) => Buffer.from(data!).toString() === 'poison';
          const kept = records.filter((r) => !failing(r.Data));
          const out =
            kept.length > 0 ? await next({ ...input, Records: kept }) : { $metadata: {}, Records: [] };
          const stored = [...(out.Records ?? [])];
          return {
            ...out,
            FailedRecordCount: records.length - kept.length,
            Records: records.map((r) =>
              failing(r.Data)
                ? { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }
                : stored.shift()!,
            ),
          };
        },
      ),
    );
    const records = [record(0), { partitionKey: 'p', data: Buffer.from('poison') }, record(2)];
    // Act
    const error = await putRecords(emu.kinesis, emu.config.streamName, records, FAST_RETRY).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toBeInstanceOf(KinesisPutError);
    const e = error as KinesisPutError;
    expect(e.acknowledged).toEqual([true, false, true]);
    expect(e.attempts).toBe(FAST_RETRY.maxAttempts);
    expect(e.acknowledgedCount).toBe(2);
    expect(e.message).toBe(
      'Kinesis stream "ecomflow-test-lines" did not acknowledge 1 of 3 records after 4 attempts (last: InternalFailure: Internal service failure.)',
    );
  });

  it('refuses, without sending, a record with a bad partition key or over 1 MiB', async () => {
    const requests = recordRequests();
    const records = [
      record(0),
      { partitionKey: '', data: Buffer.from('x') },
      { partitionKey: 'k', data: Buffer.alloc(1024 * 1024) },
    ];
    const error = (await putRecords(emu.kinesis, emu.config.streamName, records).catch(
      (e: unknown) => e,
    )) as KinesisPutError;
    expect(error.acknowledged).toEqual([true, false, false]);
    expect(error.failures.map((f) => [f.index, f.errorCode])).toEqual([
      [1, 'InvalidRecord'],
      [2, 'InvalidRecord'],
    ]);
    expect(requests.map((r) => r.count)).toEqual([1]);
  });
});

describe('kinesisRangeReader', () => {
  /** Puts `count` records under one key (so on one shard) and returns them as read back, in order. */
  async function putOnOneShard(count: number, tag: string) {
    const reader = new StreamReader(emu.kinesis, emu.config.streamName);
    await reader.next();
    await putRecords(
      emu.kinesis,
      emu.config.streamName,
      Array.from({ length: count }, (_, i) => ({
        partitionKey: `range-${tag}`,
        data: Buffer.from(`${tag}${i}`),
      })),
    );
    const [shard] = [...(await reader.next())];
    const [shardId, records] = shard!;
    return { shardId, records };
  }

  it('reads a shard from the start through the end sequence number, over pages, and no further', async () => {
    // Prepare
    const { shardId, records } = await putOnOneShard(9, 'a');
    const range = {
      streamName: emu.config.streamName,
      shardId,
      startSequenceNumber: records[2]!.kinesis.sequenceNumber,
      endSequenceNumber: records[6]!.kinesis.sequenceNumber,
    };

    // Act
    const read = await kinesisRangeReader(emu.kinesis, { pageLimit: 2 }).readRange(range);

    // Assess
    expect(read.map((r) => Buffer.from(r.data).toString())).toEqual(['a2', 'a3', 'a4', 'a5', 'a6']);
    expect(read[0]).toMatchObject({ sequenceNumber: range.startSequenceNumber, partitionKey: 'range-a' });
    expect(read[0]!.arrival).toBeInstanceOf(Date);
  });

  it('throws StreamRangeGoneError when Kinesis has no such shard', async () => {
    // Prepare
    const { records } = await putOnOneShard(1, 'b');
    const seq = records[0]!.kinesis.sequenceNumber;

    // Act
    const reading = kinesisRangeReader(emu.kinesis).readRange({
      streamName: emu.config.streamName,
      shardId: 'shardId-000000000042',
      startSequenceNumber: seq,
      endSequenceNumber: seq,
    });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(StreamRangeGoneError);
    await expect(reading).rejects.toThrow(/shardId-000000000042 .*ResourceNotFoundException/);
  });

  it('throws StreamRangeGoneError when Kinesis refuses the sequence number (InvalidArgumentException)', async () => {
    // Prepare: a sequence number of another shard, which Kinesis refuses as it refuses a trimmed one.
    const { shardId, records } = await putOnOneShard(1, 'c');
    const seq = records[0]!.kinesis.sequenceNumber;
    const other = shardId === 'shardId-000000000000' ? 'shardId-000000000001' : 'shardId-000000000000';

    // Act
    const reading = kinesisRangeReader(emu.kinesis).readRange({
      streamName: emu.config.streamName,
      shardId: other,
      startSequenceNumber: seq,
      endSequenceNumber: seq,
    });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(StreamRangeGoneError);
    await expect(reading).rejects.toThrow(/InvalidArgumentException/);
  });

  it('replaces an iterator that expired mid-read once, after the last record read', async () => {
    // Prepare: the second GetRecords answers ExpiredIteratorException.
    const { shardId, records } = await putOnOneShard(5, 'd');
    removers.push(
      interceptCommand(emu.kinesis, 'GetRecordsCommand', async (input, next, call) => {
        if (call === 2) throw serviceError('ExpiredIteratorException', 400, 'client', 'Iterator expired.');
        return next(input);
      }),
    );

    // Act
    const read = await kinesisRangeReader(emu.kinesis, { pageLimit: 2 }).readRange({
      streamName: emu.config.streamName,
      shardId,
      startSequenceNumber: records[0]!.kinesis.sequenceNumber,
      endSequenceNumber: records[4]!.kinesis.sequenceNumber,
    });

    // Assess: each record once, in order.
    expect(read.map((r) => Buffer.from(r.data).toString())).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
  });

  it("gives the stream's retention in hours", async () => {
    expect(await kinesisRangeReader(emu.kinesis).retentionHours(emu.config.streamName)).toBe(24);
  });
});
