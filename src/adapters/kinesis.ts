import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsConfig } from '../config/aws.js';
import { baseClientConfig, type ClientOptions } from './aws.js';
import { sendWithEntryRetries } from './batching.js';
import { type EntryFailure, KinesisPutError } from './errors.js';
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
