import type { PutRecordBatchCommandInput, PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import { FirehosePutError } from '../../src/adapters/errors.js';
import {
  createFirehoseClient,
  FIREHOSE_LIMITS,
  ndjsonRecord,
  packNdjson,
  putRecordBatch,
} from '../../src/adapters/firehose.js';
import { type FirehoseServer, startFirehoseServer } from '../../src/local/firehose-server.js';
import { FAST_RETRY, fastClientOptions, interceptCommand } from '../helpers/faults.js';

let server: FirehoseServer;
let delivered: Buffer[];
let fail: ((data: Buffer) => boolean) | undefined;
let client: ReturnType<typeof createFirehoseClient>;

beforeEach(async () => {
  delivered = [];
  fail = undefined;
  server = await startFirehoseServer({
    deliver: (_, records) => {
      delivered.push(...records);
    },
    failRecord: (_, data) =>
      fail?.(data) ? { errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' } : undefined,
  });
  client = createFirehoseClient(
    { region: undefined, endpoints: { firehose: server.url } },
    fastClientOptions(),
  );
});
afterEach(async () => {
  client.destroy();
  await server.close();
});

function requestSizes(): { count: number; bytes: number }[] {
  const sizes: { count: number; bytes: number }[] = [];
  interceptCommand<PutRecordBatchCommandInput, PutRecordBatchCommandOutput>(
    client,
    'PutRecordBatchCommand',
    (input, next) => {
      const records = input.Records ?? [];
      sizes.push({
        count: records.length,
        bytes: records.reduce((n, r) => n + (r.Data?.byteLength ?? 0), 0),
      });
      return next(input);
    },
  );
  return sizes;
}

describe('putRecordBatch', () => {
  it('sends at most 500 records and 4 MiB a request, and delivers every record', async () => {
    const sizes = requestSizes();
    const small = Array.from({ length: 700 }, (_, i) => ndjsonRecord({ i }));
    const large = Array.from({ length: 10 }, () => Buffer.alloc(900 * 1024, 120));
    // Act
    await putRecordBatch(client, 'lake', small);
    await putRecordBatch(client, 'lake', large);
    // Assess
    expect(sizes.map((s) => s.count)).toEqual([500, 200, 4, 4, 2]);
    for (const s of sizes) expect(s.bytes).toBeLessThanOrEqual(FIREHOSE_LIMITS.maxRequestBytes);
    expect(
      delivered
        .slice(0, 700)
        .map((b) => JSON.parse(b.toString()).i)
        .sort((a: number, b: number) => a - b),
    ).toEqual(small.map((_, i) => i));
  });

  it('resends only the entries Firehose failed', async () => {
    // Prepare: each odd record fails the first time.
    const failedOnce = new Set<string>();
    fail = (data) => {
      const text = data.toString();
      if (JSON.parse(text).i % 2 === 0 || failedOnce.has(text)) return false;
      failedOnce.add(text);
      return true;
    };
    const records = Array.from({ length: 9 }, (_, i) => ndjsonRecord({ i }));
    // Act
    const result = await putRecordBatch(client, 'lake', records, FAST_RETRY);
    // Assess
    expect(result.attempts).toBe(2);
    expect(delivered.map((b) => JSON.parse(b.toString()).i).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('throws FirehosePutError with the entries still failing after maxAttempts', async () => {
    fail = (data) => data.toString().includes('"i":3');
    const records = Array.from({ length: 5 }, (_, i) => ndjsonRecord({ i }));
    const error = (await putRecordBatch(client, 'lake', records, FAST_RETRY).catch(
      (e: unknown) => e,
    )) as FirehosePutError;
    expect(error).toBeInstanceOf(FirehosePutError);
    expect(error.failures).toEqual([
      { index: 3, errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' },
    ]);
    expect(error.attempts).toBe(FAST_RETRY.maxAttempts);
    expect(delivered).toHaveLength(4);
  });
});

describe('packNdjson', () => {
  it('packs lines in order into newline-delimited records under the byte bound', () => {
    const values = Array.from({ length: 100 }, (_, i) => ({ i, pad: 'x'.repeat(40) }));
    const packed = packNdjson(values, 1024);
    expect(packed.length).toBeGreaterThan(1);
    for (const p of packed) expect(p.data.byteLength).toBeLessThanOrEqual(1024);
    expect(packed.flatMap((p) => p.members)).toEqual(values.map((_, i) => i));
    const lines = packed.flatMap((p) =>
      p.data
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((t) => JSON.parse(t)),
    );
    expect(lines).toEqual(values);
  });

  it('puts at most 500 lines in a record, the most Firehose de-aggregates', () => {
    const packed = packNdjson(
      Array.from({ length: 1_200 }, (_, i) => i),
      FIREHOSE_LIMITS.maxRecordBytes,
    );
    expect(packed.map((p) => p.members.length)).toEqual([FIREHOSE_LIMITS.maxSubRecords, 500, 200]);
  });
});
