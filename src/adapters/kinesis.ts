import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsConfig } from '../config/aws.js';
import type { KinesisRangeReader, ShardRange, StreamRecordRead } from '../stream/redrive.js';
import { baseClientConfig, type ClientOptions } from './aws.js';
import { sendWithEntryRetries } from './batching.js';
import { AdapterError, type EntryFailure, KinesisPutError, StreamRangeGoneError } from './errors.js';
import { type RetryOptions, retryOptions } from './retry.js';

/** Service limits of `PutRecords`. */
export const KINESIS_LIMITS = {
  maxRecordsPerRequest: 500,
  /** The whole request, data and partition keys, is at most 5 MiB. */
  maxRequestBytes: 5 * 1024 * 1024,
  /** One record, data and partition key, is at most 1 MiB. */
  maxRecordBytes: 1024 * 1024,
  maxPartitionKeyLength: 256,
} as const;

/**
 * A Kinesis client. It uses the HTTP/1.1 handler: the default for Kinesis is HTTP/2 (for SubscribeToShard),
 * which kinesalite does not speak, and PutRecords gains nothing from it.
 */
export function createKinesisClient(aws: AwsConfig, options: ClientOptions = {}): KinesisClient {
  return new KinesisClient({
    ...baseClientConfig(aws, 'kinesis', options),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 10_000 }),
  });
}

/** A record to put: `partitionKey` decides the shard, so records sharing it stay on one shard. */
export interface StreamRecord {
  partitionKey: string;
  data: Uint8Array;
}

export interface PutOptions extends Partial<RetryOptions> {
  /** Requests in flight at once. */
  concurrency?: number;
}

export interface PutResult {
  records: number;
  /** Rounds of requests, the first included. */
  attempts: number;
}

/**
 * Puts records on a stream with `PutRecords`, in chunks of at most 500 records and 5 MiB.
 *
 * PutRecords can partly fail (a throttled shard, an internal error): each round retries only the entries
 * that failed, after a jittered exponential backoff, for at most `maxAttempts` rounds, so a record
 * Kinesis acknowledged is never put twice by this call.
 *
 * @throws KinesisPutError when any record is still unacknowledged; `acknowledged` says which are stored.
 * @example await putRecords(client, 'ecomflow-dev', [{ partitionKey: '536365', data: bytes }])
 */
export async function putRecords(
  client: KinesisClient,
  streamName: string,
  records: readonly StreamRecord[],
  options: PutOptions = {},
): Promise<PutResult> {
  const sizes = records.map((r) => r.data.byteLength + Buffer.byteLength(r.partitionKey));
  const refused = new Map<number, EntryFailure>();
  records.forEach((record, index) => {
    const problem = invalidRecord(record, sizes[index]!);
    if (problem) refused.set(index, { index, errorCode: 'InvalidRecord', errorMessage: problem });
  });
  const result = await sendWithEntryRetries({
    sizes,
    refused,
    limits: { maxCount: KINESIS_LIMITS.maxRecordsPerRequest, maxBytes: KINESIS_LIMITS.maxRequestBytes },
    retry: retryOptions(options),
    concurrency: options.concurrency ?? 4,
    send: async (chunk) => {
      const out = await client.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: chunk.map((i) => ({ Data: records[i]!.data, PartitionKey: records[i]!.partitionKey })),
        }),
      );
      return (out.Records ?? []).map((r) =>
        r.SequenceNumber && !r.ErrorCode
          ? null
          : { errorCode: r.ErrorCode ?? 'MissingSequenceNumber', errorMessage: r.ErrorMessage ?? '' },
      );
    },
  });
  if (result.failures.length > 0) {
    throw new KinesisPutError(streamName, result.acknowledged, result.failures, result.attempts, {
      cause: result.lastError,
    });
  }
  return { records: records.length, attempts: result.attempts };
}

function invalidRecord(record: StreamRecord, size: number): string | null {
  const keyLength = [...record.partitionKey].length;
  if (keyLength < 1 || keyLength > KINESIS_LIMITS.maxPartitionKeyLength) {
    return `partition key must be 1 to ${KINESIS_LIMITS.maxPartitionKeyLength} characters, got ${keyLength}`;
  }
  if (size > KINESIS_LIMITS.maxRecordBytes) {
    return `record is ${size} bytes, over the ${KINESIS_LIMITS.maxRecordBytes}-byte limit`;
  }
  return null;
}

/** GetRecords returns at most this many records a call. */
const GET_RECORDS_MAX = 10_000;
/** Empty pages in a row after which a shard counts as read to its end (a shard can have gaps). */
const MAX_EMPTY_PAGES = 5;
/** Kinesis's answers that mean the records asked for are no longer there. */
const GONE_ERRORS = new Set([
  'ResourceNotFoundException',
  'InvalidArgumentException',
  'ExpiredIteratorException',
]);

/**
 * A Kinesis range reader for the redrive (src/stream/redrive.ts): a shard's records from a start sequence
 * number through an end one, and the stream's retention.
 *
 * It reads with GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords until a record is past the end, the
 * shard has no more (empty pages with MillisBehindLatest 0, or no next iterator), or the pages stay
 * empty. Sequence numbers are compared as BigInt: they are decimal strings of up to 128 bits. An iterator
 * that expires mid-read (after 5 minutes) is replaced once, after the last record read.
 *
 * When Kinesis no longer has the shard, or refuses the sequence number (InvalidArgumentException, as for
 * one that is not in the stream any more) or the iterator, it throws StreamRangeGoneError.
 */
export function kinesisRangeReader(client: KinesisClient, options: { pageLimit?: number } = {}) {
  const limit = Math.min(options.pageLimit ?? 1_000, GET_RECORDS_MAX);
  const gone = (range: ShardRange, error: unknown): never => {
    const e = error as { name?: string; message?: string };
    if (!GONE_ERRORS.has(e?.name ?? '')) throw error;
    throw new StreamRangeGoneError(
      range.streamName,
      range.shardId,
      `Kinesis no longer has ${range.shardId} of ${range.streamName} from ${range.startSequenceNumber} (${e.name}: ${e.message})`,
      { cause: error },
    );
  };
  const iterator = async (range: ShardRange, after: string | undefined) => {
    const out = await client
      .send(
        new GetShardIteratorCommand({
          StreamName: range.streamName,
          ShardId: range.shardId,
          ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: after ?? range.startSequenceNumber,
        }),
      )
      .catch((error: unknown) => gone(range, error));
    return out.ShardIterator;
  };
  return {
    async readRange(range: ShardRange): Promise<StreamRecordRead[]> {
      const end = BigInt(range.endSequenceNumber);
      const records: StreamRecordRead[] = [];
      let current = await iterator(range, undefined);
      let emptyPages = 0;
      let renewed = false;
      while (current) {
        let page: GetRecordsCommandOutput;
        try {
          page = await client.send(new GetRecordsCommand({ ShardIterator: current, Limit: limit }));
        } catch (error) {
          if ((error as Error).name !== 'ExpiredIteratorException' || renewed) return gone(range, error);
          renewed = true;
          current = await iterator(range, records.at(-1)?.sequenceNumber);
          continue;
        }
        for (const r of page.Records ?? []) {
          if (BigInt(r.SequenceNumber!) > end) return records;
          records.push({
            sequenceNumber: r.SequenceNumber!,
            partitionKey: r.PartitionKey!,
            data: r.Data ?? new Uint8Array(),
            ...(r.ApproximateArrivalTimestamp ? { arrival: r.ApproximateArrivalTimestamp } : {}),
          });
        }
        if (records.length > 0 && BigInt(records.at(-1)!.sequenceNumber) >= end) return records;
        if ((page.Records ?? []).length === 0) {
          emptyPages++;
          if ((page.MillisBehindLatest ?? 0) === 0 || emptyPages >= MAX_EMPTY_PAGES) return records;
        } else {
          emptyPages = 0;
        }
        current = page.NextShardIterator;
      }
      return records;
    },

    async retentionHours(streamName: string): Promise<number> {
      const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      const hours = out.StreamDescriptionSummary?.RetentionPeriodHours;
      if (hours === undefined) {
        throw new AdapterError(
          'stream_read_failed',
          'kinesis',
          streamName,
          `DescribeStreamSummary of ${streamName} gave no RetentionPeriodHours`,
        );
      }
      return hours;
    },
  } satisfies KinesisRangeReader;
}
