/**
 * The transform handler under failure, against the emulators: DynamoDB leaving items unprocessed,
 * Firehose failing entries, the quarantine failing, the function dying mid-batch, and batches delivered
 * again. In every case each line ends up stored exactly once in DynamoDB and delivered to both Firehose
 * streams, and nothing is dropped silently.
 */

import type { BatchWriteItemCommandInput, BatchWriteItemCommandOutput } from '@aws-sdk/client-dynamodb';
import type { PutObjectCommandInput, PutObjectCommandOutput } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { createDocumentClient } from '../../src/adapters/dynamodb.js';
import { createFirehoseClient, packNdjson } from '../../src/adapters/firehose.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { loadTransformConfig } from '../../src/config/transform.js';
import type { SourceRow } from '../../src/core/row-objects.js';
import { cleanSourceRow } from '../../src/core/row-objects.js';
import type { CleanLine } from '../../src/core/schema.js';
import { createTransformHandler } from '../../src/handlers/transform.js';
import type { TransformDeps } from '../../src/stream/deps.js';
import { encodeEnvelope, packEnvelopes } from '../../src/stream/envelope.js';
import { type Emulators, readQuarantine, scanTable, startEmulators } from '../helpers/emulators.js';
import { kinesisEvent, kinesisRecord, streamQuarantineKey } from '../helpers/events.js';
import { FAST_RETRY, fastClientOptions, interceptCommand, serviceError } from '../helpers/faults.js';

let emu: Emulators;
let deps: TransformDeps;
let handler: ReturnType<typeof createTransformHandler>;
let warnings: unknown[];

beforeEach(async () => {
  emu = await startEmulators({ shards: 1 });
  const config = loadTransformConfig(emu.env);
  warnings = [];
  deps = {
    config,
    dynamo: createDocumentClient(config.aws, fastClientOptions()),
    firehose: createFirehoseClient(config.aws, fastClientOptions()),
    s3: createS3Client(config.aws, fastClientOptions()),
    retry: FAST_RETRY,
    log: {
      info: () => undefined,
      warn: (message, fields) => void warnings.push({ message, ...fields }),
      error: (message, fields) => void warnings.push({ message, ...fields }),
    },
  };
  handler = createTransformHandler(() => deps);
});

afterEach(async () => {
  jest.restoreAllMocks();
  await emu.stop();
});

/** `count` rows over invoices of 4 lines each; every 4th invoice is a guest's. */
function rows(count: number, prefix = '57'): SourceRow[] {
  return Array.from({ length: count }, (_, i) => {
    const invoice = `${prefix}${String(Math.floor(i / 4)).padStart(4, '0')}`;
    return {
      InvoiceNo: invoice,
      StockCode: `SKU${i % 7}`,
      Description: `ITEM ${i}`,
      Quantity: String((i % 5) + 1),
      InvoiceDate: `2011-0${(i % 9) + 1}-15 10:${String(i % 60).padStart(2, '0')}:00`,
      UnitPrice: `${(i % 13) + 1}.25`,
      CustomerID: Math.floor(i / 4) % 4 === 3 ? '' : String(12000 + (Math.floor(i / 4) % 10)),
      Country: 'United Kingdom',
    };
  });
}

/** Version 2 stream records for rows, packed by invoice as the API puts them. */
function packedRecords(source: readonly SourceRow[], firstSeq = 1000): KinesisStreamRecord[] {
  const packed = packEnvelopes(
    'req-p',
    source.map((row, i) => ({ partitionKey: row.InvoiceNo, line: i + 2, row })),
  );
  return packed.map((p, i) =>
    kinesisRecord({ data: p.data, sequenceNumber: String(firstSeq + i), partitionKey: p.partitionKey }),
  );
}

/** Version 1 stream records for rows, one a record, with increasing sequence numbers. */
function records(source: readonly SourceRow[], firstSeq = 1000): KinesisStreamRecord[] {
  return source.map((row, i) =>
    kinesisRecord({
      data: encodeEnvelope({ v: 1, request_id: 'req-t', line: i + 2, row }),
      sequenceNumber: String(firstSeq + i),
      partitionKey: row.InvoiceNo,
    }),
  );
}

function cleanLines(source: readonly SourceRow[]): CleanLine[] {
  return source.map((row, i) => cleanSourceRow(row, i + 2) as CleanLine);
}

/**
 * Delivers a batch as Lambda does with ReportBatchItemFailures: after a partial failure, it retries every
 * record from the reported (lowest) sequence number, until the batch is done.
 */
async function deliverUntilDone(
  batch: KinesisStreamRecord[],
  maxInvocations = 5,
): Promise<KinesisStreamBatchResponse[]> {
  const responses: KinesisStreamBatchResponse[] = [];
  let pending = batch;
  while (pending.length > 0) {
    if (responses.length === maxInvocations)
      throw new Error(`batch not done after ${maxInvocations} invocations`);
    const response = await handler(kinesisEvent(pending));
    responses.push(response);
    const failed = response.batchItemFailures[0]?.itemIdentifier;
    pending =
      failed === undefined
        ? []
        : pending.slice(pending.findIndex((r) => r.kinesis.sequenceNumber === failed));
  }
  return responses;
}

/** Asserts DynamoDB holds exactly the items of `lines`: each line once, no item missing or extra. */
async function expectStoredExactlyOnce(lines: readonly CleanLine[]): Promise<void> {
  const invoices = await scanTable(emu.dynamo, emu.config.tables.invoices);
  const stored = invoices.filter((i) => i['kind'] === 'line');
  expect(stored.map((i) => i['line_id']).sort()).toEqual(lines.map((l) => l.line_id).sort());
  const pairs = new Set(lines.map((l) => `${l.invoice_no}|${l.stock_code}`));
  expect(invoices.filter((i) => i['kind'] === 'stock')).toHaveLength(pairs.size);
  const customers = await scanTable(emu.dynamo, emu.config.tables.customers);
  expect(customers.map((i) => i['line_id']).sort()).toEqual(
    lines
      .filter((l) => l.customer_id !== null)
      .map((l) => l.line_id)
      .sort(),
  );
}

/** Line ids each Firehose stream received, with how many times. */
function deliveredIds(stream: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of emu.delivered.get(stream) ?? []) {
    // A Firehose record packs many newline-terminated lines.
    for (const text of r.toString('utf8').split('\n').filter(Boolean)) {
      const id = JSON.parse(text).line_id as string;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

function expectDeliveredOnce(lines: readonly CleanLine[]): void {
  for (const stream of [emu.config.deliveryStreams.lake, emu.config.deliveryStreams.warehouse]) {
    const counts = deliveredIds(stream);
    expect([...counts.keys()].sort()).toEqual(lines.map((l) => l.line_id).sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }
}

describe('a clean batch', () => {
  it('stores every line, merges shared membership items and sends each line to both streams once', async () => {
    // Prepare: 60 rows = 180+ writes, many sharing (invoice, stock) and customer keys across chunks.
    const source = rows(60);
    // Act
    const response = await handler(kinesisEvent(records(source)));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    await expectStoredExactlyOnce(cleanLines(source));
    expectDeliveredOnce(cleanLines(source));
  });

  it('stores a line once when the same row arrives twice in one batch', async () => {
    const [row] = rows(1);
    const response = await handler(kinesisEvent(records([row!, row!])));
    expect(response.batchItemFailures).toEqual([]);
    await expectStoredExactlyOnce(cleanLines([row!]));
  });
});

describe('packed records (envelope version 2)', () => {
  it('unpacks every line, stores it once and sends the lines to both streams in packed records', async () => {
    // Prepare: 60 rows in 15 invoices, so 15 records.
    const source = rows(60);
    const batch = packedRecords(source);
    expect(batch).toHaveLength(15);
    // Act
    const response = await handler(kinesisEvent(batch));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    await expectStoredExactlyOnce(cleanLines(source));
    expectDeliveredOnce(cleanLines(source));
    // 60 lines of about 0.3 KB fit one Firehose record per stream.
    expect(emu.delivered.get(emu.config.deliveryStreams.lake)).toHaveLength(1);
  });

  it('processes version 1 records still on the stream beside version 2 ones (a rolling deploy)', async () => {
    // Prepare: the old API's one-row records, then the new API's packed ones, in one batch.
    const old = rows(8, '56');
    const current = rows(8, '57');
    const batch = [...records(old, 1000), ...packedRecords(current, 2000)];
    // Act
    const response = await handler(kinesisEvent(batch));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const all = [...cleanLines(old), ...cleanLines(current)];
    await expectStoredExactlyOnce(all);
    expectDeliveredOnce(all);
  });

  it('quarantines the bad rows of a packed record with their lines, and stores its good ones', async () => {
    // Prepare: one invoice of 4 rows; the third has a Description over its bound.
    const source = rows(4);
    source[2] = { ...source[2]!, Description: 'X'.repeat(2_000) };
    // Act
    const response = await handler(kinesisEvent(packedRecords(source)));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const good = cleanLines([source[0]!, source[1]!, source[3]!]);
    expectDeliveredOnce(good);
    const quarantined = await readQuarantine(emu.s3, emu.config.quarantine.bucket);
    expect(quarantined.flatMap((q) => q.rows)).toEqual([
      expect.objectContaining({ line: 4, reason: 'field_too_long', field: 'Description' }),
    ]);
    expect(quarantined[0]!.key).toBe(streamQuarantineKey(emu.config.quarantine.prefix, '1000'));
  });
});

describe("a line outside the lake's projection years", () => {
  it('is quarantined as outside_lake_years and stored nowhere, so the stores agree', async () => {
    // Prepare: the default projection covers 2010 to 2030; one row of 2045.
    const source = rows(4);
    source[1] = { ...source[1]!, InvoiceDate: '2045-01-15 10:00:00' };
    // Act
    const response = await handler(kinesisEvent(packedRecords(source)));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const good = cleanLines([source[0]!, source[2]!, source[3]!]);
    expectDeliveredOnce(good);
    await expectStoredExactlyOnce(good);
    const quarantined = (await readQuarantine(emu.s3, emu.config.quarantine.bucket)).flatMap((q) => q.rows);
    expect(quarantined).toEqual([
      expect.objectContaining({ line: 3, reason: 'outside_lake_years', field: 'InvoiceDate' }),
    ]);
    expect(String(quarantined[0]!['message'])).toContain('2010 to 2030');
  });
});

describe('a line DynamoDB refuses as invalid', () => {
  it('is quarantined as store_rejected; the rest of the batch is stored and delivered, and nothing is retried', async () => {
    // Prepare: an injected fault, since the contract's bounds keep real lines valid. DynamoDB refuses any
    // request that holds the line item of one chosen line, as it refuses an over-long key.
    const source = rows(12);
    const lines = cleanLines(source);
    const refused = lines[6]!.line_id;
    interceptCommand<BatchWriteItemCommandInput, BatchWriteItemCommandOutput>(
      deps.dynamo,
      'BatchWriteItemCommand',
      async (input, next) => {
        if (JSON.stringify(input.RequestItems).includes(`#${refused}`)) {
          throw serviceError(
            'ValidationException',
            400,
            'client',
            'One or more parameter values were invalid',
          );
        }
        return next(input);
      },
    );
    // Act
    const response = await handler(kinesisEvent(packedRecords(source)));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const others = lines.filter((l) => l.line_id !== refused);
    expectDeliveredOnce(others);
    const items = await scanTable(emu.dynamo, emu.config.tables.invoices);
    const storedLines = items.filter((i) => i['kind'] === 'line').map((i) => i['line_id']);
    expect(storedLines.sort()).toEqual(others.map((l) => l.line_id).sort());
    const quarantined = (await readQuarantine(emu.s3, emu.config.quarantine.bucket)).flatMap((q) => q.rows);
    expect(quarantined).toEqual([
      expect.objectContaining({
        line: 8,
        reason: 'store_rejected',
        origin: expect.objectContaining({ source: 'stream', request_id: 'req-p' }),
      }),
    ]);
    expect(String(quarantined[0]!['message'])).toContain('One or more parameter values were invalid');
  });
});

describe('re-delivery', () => {
  it.each([
    ['one line a record (v1)', records],
    ['packed records (v2)', packedRecords],
  ])('stores each line once when the same batch of %s is delivered again', async (_, recordsOf) => {
    const source = rows(20);
    const batch = recordsOf(source);
    await handler(kinesisEvent(batch));
    const before = await scanTable(emu.dynamo, emu.config.tables.invoices);
    // Act
    const again = await handler(kinesisEvent(batch));
    // Assess
    expect(again.batchItemFailures).toEqual([]);
    await expectStoredExactlyOnce(cleanLines(source));
    expect(await scanTable(emu.dynamo, emu.config.tables.invoices)).toEqual(before);
  });

  it('stores each line once when the same rows are posted again (new sequence numbers)', async () => {
    const source = rows(12);
    await handler(kinesisEvent(records(source, 1000)));
    await handler(kinesisEvent(records(source, 5000)));
    await expectStoredExactlyOnce(cleanLines(source));
  });
});

describe('DynamoDB UnprocessedItems', () => {
  it('retries only the unprocessed writes until every line is stored once', async () => {
    // Prepare: each of the first three BatchWriteItem calls processes only its first half.
    let requested = 0;
    interceptCommand<BatchWriteItemCommandInput, BatchWriteItemCommandOutput>(
      deps.dynamo,
      'BatchWriteItemCommand',
      async (input, next, call) => {
        const entries = Object.entries(input.RequestItems ?? {}).flatMap(([table, reqs]) =>
          reqs.map((r) => [table, r] as const),
        );
        requested += entries.length;
        if (call > 3) return next(input);
        const half = Math.ceil(entries.length / 2);
        const group = (list: typeof entries) => {
          const out: NonNullable<BatchWriteItemCommandInput['RequestItems']> = {};
          for (const [table, r] of list) out[table] = [...(out[table] ?? []), r];
          return out;
        };
        const result = await next({ ...input, RequestItems: group(entries.slice(0, half)) });
        return { ...result, UnprocessedItems: group(entries.slice(half)) };
      },
    );
    const source = rows(40);
    // Act
    const response = await handler(kinesisEvent(records(source)));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    await expectStoredExactlyOnce(cleanLines(source));
    const writes = new Set(
      cleanLines(source).flatMap((l) => [
        `i|${l.line_id}`,
        `s|${l.invoice_no}|${l.stock_code}`,
        ...(l.customer_id === null ? [] : [`c|${l.line_id}`]),
      ]),
    ).size;
    // Only the withheld halves were sent again: fewer than twice the writes, more than once.
    expect(requested).toBeGreaterThan(writes);
    expect(requested).toBeLessThan(writes * 2);
  });

  it('reports the earliest record whose items stay unprocessed, and completes on the retry', async () => {
    // Prepare: writes for invoice 570002 (records 8 to 11) are never processed on the first invocation.
    let failing = true;
    const remove = interceptCommand<BatchWriteItemCommandInput, BatchWriteItemCommandOutput>(
      deps.dynamo,
      'BatchWriteItemCommand',
      async (input, next) => {
        if (!failing) return next(input);
        const keep: NonNullable<BatchWriteItemCommandInput['RequestItems']> = {};
        const left: NonNullable<BatchWriteItemCommandInput['RequestItems']> = {};
        for (const [table, reqs] of Object.entries(input.RequestItems ?? {})) {
          for (const r of reqs) {
            const target = JSON.stringify(r).includes('570002') ? left : keep;
            target[table] = [...(target[table] ?? []), r];
          }
        }
        const result =
          Object.keys(keep).length > 0 ? await next({ ...input, RequestItems: keep }) : { $metadata: {} };
        return { ...result, UnprocessedItems: left };
      },
    );
    const source = rows(16);
    const batch = records(source);
    // Act
    const first = await handler(kinesisEvent(batch));
    failing = false;
    const rest = await deliverUntilDone(
      batch.slice(
        batch.findIndex((r) => r.kinesis.sequenceNumber === first.batchItemFailures[0]?.itemIdentifier),
      ),
    );
    remove();
    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: '1008' }]);
    expect(rest).toEqual([{ batchItemFailures: [] }]);
    await expectStoredExactlyOnce(cleanLines(source));
    // Firehose got only the records before the failure on the first invocation, then the rest: once each.
    expectDeliveredOnce(cleanLines(source));
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe('Firehose PutRecordBatch failures', () => {
  it('retries only failed entries, delivering each line once to each stream', async () => {
    // Prepare: the local Firehose fails every other entry the first time it sees it.
    const seen = new Set<string>();
    emu.failFirehoseRecord = (stream, data) => {
      const key = `${stream}|${data.toString('utf8')}`;
      if (seen.has(key)) return undefined;
      seen.add(key);
      return seen.size % 2 === 0
        ? { errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' }
        : undefined;
    };
    const source = rows(30);
    // Records of about three lines, so that the batch makes many.
    deps.config = { ...deps.config, firehoseRecordMaxBytes: 1024 };
    // Act
    const response = await handler(kinesisEvent(records(source)));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((emu.delivered.get(emu.config.deliveryStreams.lake) ?? []).length).toBeGreaterThan(5);
    expectDeliveredOnce(cleanLines(source));
    await expectStoredExactlyOnce(cleanLines(source));
  });

  it('reports the earliest Kinesis record in a packed record a stream kept refusing; the retry delivers the rest', async () => {
    // Prepare: Firehose records of about three lines; the warehouse stream refuses the one holding record
    // 5's line until the fault clears. Its earliest line decides the checkpoint.
    deps.config = { ...deps.config, firehoseRecordMaxBytes: 1024 };
    const source = rows(10);
    const lines = cleanLines(source);
    const poisoned = lines[5]!.line_id;
    const holder = packNdjson(lines, 1024).find((p) => p.members.includes(5))!;
    const owner = holder.members[0]!;
    expect(owner).toBeLessThan(5);
    emu.failFirehoseRecord = (stream, data) =>
      stream === emu.config.deliveryStreams.warehouse && data.toString('utf8').includes(poisoned)
        ? { errorCode: 'InternalFailure', errorMessage: 'Internal failure.' }
        : undefined;
    const batch = records(source);
    // Act
    const first = await handler(kinesisEvent(batch));
    emu.failFirehoseRecord = undefined;
    await deliverUntilDone(batch.slice(owner));
    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: String(1000 + owner) }]);
    await expectStoredExactlyOnce(lines);
    // Nothing is missing from either stream. Records before the checkpoint went exactly once; those after
    // it that a stream had accepted are sent again by the retry (at-least-once: the lake and warehouse
    // deduplicate by line_id).
    for (const stream of [emu.config.deliveryStreams.lake, emu.config.deliveryStreams.warehouse]) {
      const counts = deliveredIds(stream);
      expect([...counts.keys()].sort()).toEqual(lines.map((l) => l.line_id).sort());
      expect(lines.slice(0, owner).map((l) => counts.get(l.line_id))).toEqual(
        lines.slice(0, owner).map(() => 1),
      );
    }
    expect(deliveredIds(emu.config.deliveryStreams.warehouse).get(poisoned)).toBe(1);
  });
});

describe('a crash mid-batch', () => {
  it('loses and doubles nothing when the function dies after some writes and Lambda retries the batch', async () => {
    // Prepare: the third BatchWriteItem never returns, as when the function times out and is killed.
    let hung!: () => void;
    const hanging = new Promise<void>((resolve) => {
      hung = resolve;
    });
    const earlier: Promise<unknown>[] = [];
    const remove = interceptCommand<BatchWriteItemCommandInput, BatchWriteItemCommandOutput>(
      deps.dynamo,
      'BatchWriteItemCommand',
      async (input, next, call) => {
        if (call < 3) {
          const result = next(input);
          earlier.push(result);
          return result;
        }
        if (call === 3) void Promise.all(earlier).then(() => hung());
        return new Promise<never>(() => undefined);
      },
    );
    const source = rows(60);
    const batch = records(source);
    // Act: the first invocation is abandoned mid-batch; Lambda runs the whole batch again.
    void handler(kinesisEvent(batch));
    await hanging;
    remove();
    const partial = (await scanTable(emu.dynamo, emu.config.tables.invoices)).length;
    const retry = await handler(kinesisEvent(batch));
    // Assess
    expect(partial).toBeGreaterThan(0);
    expect(retry.batchItemFailures).toEqual([]);
    await expectStoredExactlyOnce(cleanLines(source));
    expectDeliveredOnce(cleanLines(source));
  });

  it('reports a rejected row whose quarantine write failed, and quarantines it on the retry', async () => {
    // Prepare: S3 refuses the first quarantine write.
    const source = rows(4);
    source[1] = { ...source[1]!, Quantity: 'lots' };
    const remove = interceptCommand<PutObjectCommandInput, PutObjectCommandOutput>(
      deps.s3,
      'PutObjectCommand',
      async () => {
        throw serviceError('AccessDenied', 403, 'client', 'Access Denied');
      },
    );
    const batch = records(source);
    // Act
    const first = await handler(kinesisEvent(batch));
    remove();
    const retried = await deliverUntilDone(batch.slice(1));
    // Assess: the quarantine write failed, so record 1 (the rejected row) was reported.
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: '1001' }]);
    expect(retried).toEqual([{ batchItemFailures: [] }]);
    const quarantine = await readQuarantine(emu.s3, emu.config.quarantine.bucket);
    expect(quarantine.map((o) => o.key)).toEqual([streamQuarantineKey(emu.config.quarantine.prefix, '1001')]);
    await expectStoredExactlyOnce(cleanLines([source[0]!, source[2]!, source[3]!]));
  });
});

describe('records that cannot be cleaned', () => {
  it('quarantines a malformed record and a rejected row with their reasons, without retrying them', async () => {
    const [good, bad] = rows(2);
    const batch = [
      ...records([good!]),
      kinesisRecord({ data: 'not json at all', sequenceNumber: '1001' }),
      ...records([{ ...bad!, UnitPrice: 'free' }], 1002),
    ];
    // Act
    const response = await handler(kinesisEvent(batch));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const objects = await readQuarantine(emu.s3, emu.config.quarantine.bucket);
    expect(objects.map((o) => [o.key, o.rows.map((r) => r['reason'])])).toEqual([
      [streamQuarantineKey(emu.config.quarantine.prefix, '1001'), ['malformed_record']],
      [streamQuarantineKey(emu.config.quarantine.prefix, '1002'), ['invalid_price']],
    ]);
    expect(objects[1]?.rows[0]).toMatchObject({
      field: 'UnitPrice',
      origin: {
        source: 'stream',
        shard_id: 'shardId-000000000000',
        sequence_number: '1002',
        request_id: 'req-t',
      },
    });
    expect(objects[0]?.rows[0]).toMatchObject({
      line: null,
      origin: { sequence_number: '1001', request_id: null },
    });
    await expectStoredExactlyOnce(cleanLines([good!]));
  });
});
