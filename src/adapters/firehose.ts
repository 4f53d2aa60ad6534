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
  /** Dynamic partitioning de-aggregates at most 500 sub-records of one record. */
  maxSubRecords: 500,
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
  return Buffer.from(ndjsonLine(value));
}

/** One value as a newline-terminated JSON line: what records hold, one or many. */
function ndjsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** A packed Firehose record and the indexes (into the caller's values) of the lines it carries. */
export interface PackedNdjson {
  data: Buffer;
  members: number[];
}

/**
 * Packs values into newline-delimited JSON records of at most `maxBytes`, in order. Firehose bills each
 * record rounded up to 5 KB, so one line a record (about 0.3 KB) is billed some 16 times its size; packed,
 * only the last record of a batch is rounded. The lake stream's RecordDeAggregation processor splits the
 * records back into lines before partitioning (at most 500 a record), and Redshift's `COPY ... JSON 'auto'`
 * reads them as they are.
 */
export function packNdjson(values: readonly unknown[], maxBytes: number): PackedNdjson[] {
  const out: PackedNdjson[] = [];
  let parts: string[] = [];
  let members: number[] = [];
  let bytes = 0;
  values.forEach((value, i) => {
    const text = ndjsonLine(value);
    const size = Buffer.byteLength(text);
    if (parts.length > 0 && (bytes + size > maxBytes || parts.length >= FIREHOSE_LIMITS.maxSubRecords)) {
      out.push({ data: Buffer.from(parts.join('')), members });
      parts = [];
      members = [];
      bytes = 0;
    }
    parts.push(text);
    members.push(i);
    bytes += size;
  });
  if (parts.length > 0) out.push({ data: Buffer.from(parts.join('')), members });
  return out;
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
