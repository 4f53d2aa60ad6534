import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { AwsConfig } from '../config/aws.js';
import { baseClientConfig, type ClientOptions } from './aws.js';
import { sendWithEntryRetries } from './batching.js';
import { type EntryFailure, FirehosePutError } from './errors.js';
import { type RetryOptions, retryOptions } from './retry.js';

/** Service limits of `PutRecordBatch`. */
export const FIREHOSE_LIMITS = {
  maxRecordsPerRequest: 500,
  maxRequestBytes: 4 * 1024 * 1024,
  /** One record is at most 1,000 KiB before base64. */
  maxRecordBytes: 1000 * 1024,
} as const;

export function createFirehoseClient(aws: AwsConfig, options: ClientOptions = {}): FirehoseClient {
  return new FirehoseClient(baseClientConfig(aws, 'firehose', options));
}

export interface DeliverOptions extends Partial<RetryOptions> {
  concurrency?: number;
}

/**
 * A clean line as a Firehose record: one JSON object per line. Firehose concatenates records, so the newline
 * is what keeps them apart in S3 objects and in Redshift's `COPY ... JSON 'auto'`.
 */
export function ndjsonRecord(value: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify(value)}\n`);
}

/**
 * Sends records to a delivery stream with `PutRecordBatch`, at most 500 records and 4 MiB a request.
 *
 * PutRecordBatch can partly fail (`FailedPutCount` > 0): only the failed entries are sent again, after a
 * jittered exponential backoff, for at most `maxAttempts` rounds.
 *
 * @throws FirehosePutError naming the entries (by index) Firehose never accepted.
 */
export async function putRecordBatch(
  client: FirehoseClient,
  deliveryStream: string,
  records: readonly Uint8Array[],
  options: DeliverOptions = {},
): Promise<{ records: number; attempts: number }> {
  const sizes = records.map((r) => r.byteLength);
  const refused = new Map<number, EntryFailure>();
  sizes.forEach((size, index) => {
    if (size > FIREHOSE_LIMITS.maxRecordBytes) {
      refused.set(index, {
        index,
        errorCode: 'InvalidRecord',
        errorMessage: `record is ${size} bytes, over the ${FIREHOSE_LIMITS.maxRecordBytes}-byte limit`,
      });
    }
  });
  const result = await sendWithEntryRetries({
    sizes,
    refused,
    limits: { maxCount: FIREHOSE_LIMITS.maxRecordsPerRequest, maxBytes: FIREHOSE_LIMITS.maxRequestBytes },
    retry: retryOptions(options),
    concurrency: options.concurrency ?? 4,
    send: async (chunk) => {
      const out = await client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: deliveryStream,
          Records: chunk.map((i) => ({ Data: records[i]! })),
        }),
      );
      return (out.RequestResponses ?? []).map((r) =>
        r.RecordId && !r.ErrorCode
          ? null
          : { errorCode: r.ErrorCode ?? 'MissingRecordId', errorMessage: r.ErrorMessage ?? '' },
      );
    },
  });
  if (result.failures.length > 0) {
    throw new FirehosePutError(deliveryStream, records.length, result.failures, result.attempts, {
      cause: result.lastError,
    });
  }
  return { records: records.length, attempts: result.attempts };
}
