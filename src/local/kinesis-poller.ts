import { appendFile } from 'node:fs/promises';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { chunkBySize } from '../adapters/batching.js';
import { KINESIS_EVENT_RECORDS_MAX_BYTES } from '../adapters/lambda.js';
import { STATE_FILE_MODE } from '../config/local.js';
import { readJsonState, withFileLock, writeAtomically } from '../files.js';
import { TRANSFORM_EVENT_SOURCE } from '../stream/event-source.js';
import { kinesisStreamRecord } from '../stream/kinesis-event.js';
import { lambdaContext } from './lambda-context.js';

export type TransformHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined>;

export interface PollerOptions {
  kinesis: KinesisClient;
  streamName: string;
  streamArn: string;
  region: string;
  handler: TransformHandler;
  /**
   * A JSON file that keeps each shard's last processed sequence number across restarts. It is replaced
   * atomically; one that exists but cannot be read stops `start()` (CheckpointFileError's message says
   * what to do), since starting over would reprocess the whole stream.
   */
  checkpointFile: string;
  /** Records that exhaust their retries go here, as the on-failure destination would receive them. */
  deadLetterFile: string;
  /** How long an idle shard waits before polling again. */
  idleMs?: number;
  batchSize?: number;
  /** Bytes of records an invocation gets at most; default the synchronous payload limit's share. */
  maxEventBytes?: number;
  maximumRetryAttempts?: number;
  onError?: (err: Error) => void;
}

type Checkpoints = Record<string, string>;

/**
 * Polls every shard of a kinesalite stream and invokes the `transform` handler with real Kinesis Lambda
 * events, the way the event source mapping does:
 * - batches of up to `batchSize` records and the synchronous payload limit, in order, per shard;
 * - `batchItemFailures` checkpoints before the earliest failed record, and the rest is retried;
 * - a thrown error (a function error) bisects the batch and retries each half;
 * - after `maximumRetryAttempts` a batch's records go to the dead-letter file and the shard moves on.
 */
export class KinesisPoller {
  private running = false;
  private loops: Promise<void>[] = [];
  private checkpoints: Checkpoints = {};
  private saving: Promise<void> = Promise.resolve();
  private readonly idleMs: number;
  private readonly batchSize: number;
  private readonly maxRetries: number;
  private readonly maxEventBytes: number;
  /** Records handed to the handler and finished (not counting retries). */
  processed = 0;

  constructor(private readonly options: PollerOptions) {
    this.idleMs = options.idleMs ?? 100;
    this.batchSize = options.batchSize ?? TRANSFORM_EVENT_SOURCE.batchSize;
    this.maxRetries = options.maximumRetryAttempts ?? TRANSFORM_EVENT_SOURCE.maximumRetryAttempts;
    this.maxEventBytes = options.maxEventBytes ?? KINESIS_EVENT_RECORDS_MAX_BYTES;
  }

  async start(): Promise<void> {
    this.checkpoints = await readCheckpoints(this.options.checkpointFile);
    const { Shards = [] } = await this.options.kinesis.send(
      new ListShardsCommand({ StreamName: this.options.streamName }),
    );
    this.running = true;
    this.loops = Shards.map((shard) => this.pollShard(shard.ShardId!));
  }

  /** Finishes the batches under way, saves the checkpoints and stops. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await this.saving;
  }

  private async pollShard(shardId: string): Promise<void> {
    const { kinesis } = this.options;
    let iterator = await this.iteratorAfterCheckpoint(shardId);
    while (this.running && iterator) {
      try {
        const page = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.batchSize }),
        );
        iterator = page.NextShardIterator;
        const records = page.Records ?? [];
        if (records.length === 0) {
          await sleep(this.idleMs);
          continue;
        }
        // A page of up to batchSize records goes in invocations of at most the payload limit, as the
        // event source mapping passes it (a page of packed records can hold 10 MB). Each record is built
        // as the event carries it once, and measured and retried as such.
        const eventRecords = records.map((r) => this.eventRecord(shardId, r));
        const limits = { maxCount: this.batchSize, maxBytes: this.maxEventBytes };
        const sizeInEvent = (i: number) => JSON.stringify(eventRecords[i]).length + 1;
        for (const batch of chunkBySize(
          eventRecords.map((_, i) => i),
          sizeInEvent,
          limits,
        )) {
          await this.process(
            shardId,
            batch.map((i) => eventRecords[i]!),
          );
          // The batch's checkpoint is on disk before the next batch starts: a kill then processes again
          // at most the one batch it interrupted, as the event source mapping does after a crash.
          await this.saving;
        }
      } catch (err) {
        // The stream itself failed (kinesalite stopping, say): start again from the checkpoint.
        if (!this.running) return;
        this.options.onError?.(err as Error);
        await sleep(500);
        iterator = await this.iteratorAfterCheckpoint(shardId).catch(() => iterator);
      }
    }
  }

  /** Runs one batch to completion: every record ends processed or dead-lettered, in order. */
  private async process(shardId: string, records: KinesisStreamRecord[]): Promise<void> {
    const queue: { records: KinesisStreamRecord[]; attempts: number }[] = [{ records, attempts: 0 }];
    while (queue.length > 0) {
      const batch = queue.shift()!;
      let failedFrom = -1;
      let functionError: Error | null = null;
      try {
        const response = await this.options.handler(
          { Records: batch.records },
          lambdaContext('ecomflow-local-transform'),
        );
        const failures = response?.batchItemFailures ?? [];
        if (failures.length > 0) {
          const failed = new Set(failures.map((f) => f.itemIdentifier));
          failedFrom = batch.records.findIndex((r) => failed.has(r.kinesis.sequenceNumber));
          // An identifier that names no record of the batch fails the whole batch, as on AWS.
          if (failedFrom === -1) failedFrom = 0;
        }
      } catch (err) {
        functionError = err as Error;
        failedFrom = 0;
      }
      const done = failedFrom === -1 ? batch.records : batch.records.slice(0, failedFrom);
      if (done.length > 0) this.checkpoint(shardId, done.at(-1)!.kinesis.sequenceNumber, done.length);
      if (failedFrom === -1) continue;

      const rest = batch.records.slice(failedFrom);
      if (batch.attempts >= this.maxRetries) {
        await this.deadLetter(shardId, rest, functionError);
        this.checkpoint(shardId, rest.at(-1)!.kinesis.sequenceNumber, 0);
        continue;
      }
      if (functionError) this.options.onError?.(functionError);
      await sleep(Math.min(1000, 50 * 2 ** batch.attempts));
      if (functionError && TRANSFORM_EVENT_SOURCE.bisectBatchOnFunctionError && rest.length > 1) {
        const half = Math.ceil(rest.length / 2);
        queue.unshift(
          { records: rest.slice(0, half), attempts: batch.attempts + 1 },
          { records: rest.slice(half), attempts: batch.attempts + 1 },
        );
      } else {
        queue.unshift({ records: rest, attempts: batch.attempts + 1 });
      }
    }
  }

  private eventRecord(shardId: string, r: KinesisRecord): KinesisStreamRecord {
    const { streamArn, region } = this.options;
    return kinesisStreamRecord({
      data: r.Data ?? new Uint8Array(),
      sequenceNumber: r.SequenceNumber!,
      partitionKey: r.PartitionKey!,
      shardId,
      streamArn,
      region,
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/ecomflow-local-transform',
      ...(r.ApproximateArrivalTimestamp ? { arrival: r.ApproximateArrivalTimestamp } : {}),
    });
  }

  private async iteratorAfterCheckpoint(shardId: string): Promise<string | undefined> {
    const after = this.checkpoints[shardId];
    const { ShardIterator } = await this.options.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.options.streamName,
        ShardId: shardId,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  }

  private checkpoint(shardId: string, sequenceNumber: string, count: number): void {
    this.checkpoints[shardId] = sequenceNumber;
    this.processed += count;
    const snapshot = JSON.stringify(this.checkpoints);
    // Atomically: a kill -9 during a write in place left the file empty, which read as "from the start".
    this.saving = this.saving.then(() =>
      writeAtomically(this.options.checkpointFile, snapshot, { mode: STATE_FILE_MODE }),
    );
  }

  private async deadLetter(
    shardId: string,
    records: KinesisStreamRecord[],
    error: Error | null,
  ): Promise<void> {
    // The shape of the on-failure destination's message: where the records are, not the records.
    const first = records[0]!;
    const last = records.at(-1)!;
    const message = {
      requestContext: { condition: 'RetryAttemptsExhausted', functionError: error?.message ?? null },
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first.kinesis.sequenceNumber,
        endSequenceNumber: last.kinesis.sequenceNumber,
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        batchSize: records.length,
        streamArn: this.options.streamArn,
      },
      timestamp: new Date().toISOString(),
    };
    // Under the file's lock: `ecomflow redrive` rewrites this file while the stack runs (local/dead-letters.ts).
    const file = this.options.deadLetterFile;
    await withFileLock(file, () =>
      appendFile(file, `${JSON.stringify(message)}\n`, { mode: STATE_FILE_MODE }),
    );
  }
}

/** When a record reached the stream, as the on-failure destination writes it (ISO 8601). */
/** A record's arrival as the on-failure destination writes it; the event carries it in seconds. */
function arrival(record: KinesisStreamRecord): string {
  return new Date(Math.round(record.kinesis.approximateArrivalTimestamp * 1000)).toISOString();
}

/**
 * The checkpoints a previous run saved: none when the file does not exist yet.
 * @throws StateFileError when it exists but is not a JSON object of shard ids to sequence numbers
 */
export async function readCheckpoints(file: string): Promise<Checkpoints> {
  const checkpoints = await readJsonState<Checkpoints>(
    file,
    "the poller's checkpoints (a JSON object of shard ids to sequence numbers)",
    checkpointProblem,
    'delete it to process the stream again from its start (the stores are idempotent by line_id: DynamoDB ' +
      'overwrites, the lake and warehouse views dedupe), or restore it from a backup',
  );
  return checkpoints ?? {};
}

function checkpointProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `it holds ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`;
  }
  for (const [shard, sequence] of Object.entries(value)) {
    if (typeof sequence !== 'string' || sequence === '') {
      return `shard ${shard} has ${JSON.stringify(sequence)} as its sequence number`;
    }
  }
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
