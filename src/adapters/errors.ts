import { EcomflowError } from '../errors.js';
/**
 * Errors of the adapters. Each says which service and resource failed, carries what was not done (by the
 * index of the caller's input), and keeps the last underlying error as `cause`.
 */

export const ADAPTER_ERROR_CODES = {
  stream_write_failed: 'stream_write_failed',
  table_write_failed: 'table_write_failed',
  table_read_failed: 'table_read_failed',
  delivery_failed: 'delivery_failed',
  quarantine_write_failed: 'quarantine_write_failed',
  lake_delete_failed: 'lake_delete_failed',
  stream_read_failed: 'stream_read_failed',
  stream_range_gone: 'stream_range_gone',
  queue_delete_failed: 'queue_delete_failed',
  function_failed: 'function_failed',
} as const;
export type AdapterErrorCode = (typeof ADAPTER_ERROR_CODES)[keyof typeof ADAPTER_ERROR_CODES];

/** One input entry that was not stored, with the service's reason. */
export interface EntryFailure {
  /** Index in the caller's input array. */
  index: number;
  errorCode: string;
  errorMessage: string;
}

export class AdapterError extends EcomflowError {
  declare readonly code: AdapterErrorCode;
  /** The service that failed, e.g. `kinesis`. */
  readonly service: string;
  /** The stream, table, delivery stream or bucket. */
  readonly resource: string;
  constructor(
    code: AdapterErrorCode,
    service: string,
    resource: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.name = 'AdapterError';
    this.service = service;
    this.resource = resource;
  }
}

/**
 * Kinesis did not acknowledge every record after the bounded attempts.
 * `acknowledged[i]` says whether input record `i` is on the stream.
 */
export class KinesisPutError extends AdapterError {
  readonly acknowledged: readonly boolean[];
  readonly failures: readonly EntryFailure[];
  readonly attempts: number;
  constructor(
    streamName: string,
    acknowledged: readonly boolean[],
    failures: readonly EntryFailure[],
    attempts: number,
    options?: ErrorOptions,
  ) {
    const first = failures[0];
    super(
      'stream_write_failed',
      'kinesis',
      streamName,
      `Kinesis stream "${streamName}" did not acknowledge ${failures.length} of ${acknowledged.length} records after ${attempts} attempts${first ? ` (last: ${first.errorCode}: ${first.errorMessage})` : ''}`,
      options,
    );
    this.name = 'KinesisPutError';
    this.acknowledged = acknowledged;
    this.failures = failures;
    this.attempts = attempts;
  }

  get acknowledgedCount(): number {
    return this.acknowledged.filter(Boolean).length;
  }
}

/** DynamoDB left writes unprocessed (or refused a request) after the bounded attempts. */
export class DynamoWriteError extends AdapterError {
  /** Indexes of the input writes that may not be stored; a retry may store them. */
  readonly unprocessed: readonly number[];
  /** Input writes DynamoDB refused as invalid (ValidationException), with its message; never stored. */
  readonly invalid: readonly { index: number; message: string }[];
  readonly attempts: number;
  constructor(
    tables: string,
    unprocessed: readonly number[],
    attempts: number,
    options: ErrorOptions & { invalid?: readonly { index: number; message: string }[] } = {},
  ) {
    const invalid = options.invalid ?? [];
    super(
      'table_write_failed',
      'dynamodb',
      tables,
      `DynamoDB left ${unprocessed.length} writes to ${tables} unprocessed after ${attempts} attempts` +
        (invalid.length > 0 ? ` and refused ${invalid.length} as invalid (${invalid[0]!.message})` : ''),
      options,
    );
    this.name = 'DynamoWriteError';
    this.unprocessed = unprocessed;
    this.invalid = invalid;
    this.attempts = attempts;
  }
}

/** A query failed; the API answers 503 for it. */
export class DynamoReadError extends AdapterError {
  constructor(table: string, message: string, options?: ErrorOptions) {
    super('table_read_failed', 'dynamodb', table, message, options);
    this.name = 'DynamoReadError';
  }
}

/** Firehose did not accept every record after the bounded attempts. */
export class FirehosePutError extends AdapterError {
  readonly failures: readonly EntryFailure[];
  readonly attempts: number;
  constructor(
    deliveryStream: string,
    total: number,
    failures: readonly EntryFailure[],
    attempts: number,
    options?: ErrorOptions,
  ) {
    const first = failures[0];
    super(
      'delivery_failed',
      'firehose',
      deliveryStream,
      `Firehose stream "${deliveryStream}" did not accept ${failures.length} of ${total} records after ${attempts} attempts${first ? ` (last: ${first.errorCode}: ${first.errorMessage})` : ''}`,
      options,
    );
    this.name = 'FirehosePutError';
    this.failures = failures;
    this.attempts = attempts;
  }
}

/** The quarantine object could not be written. */
export class QuarantineWriteError extends AdapterError {
  readonly key: string;
  readonly rows: number;
  constructor(bucket: string, key: string, rows: number, options?: ErrorOptions) {
    super(
      'quarantine_write_failed',
      's3',
      bucket,
      `could not write ${rows} quarantined rows to s3://${bucket}/${key}`,
      options,
    );
    this.name = 'QuarantineWriteError';
    this.key = key;
    this.rows = rows;
  }
}

/**
 * A shard's records can no longer be read from a sequence number: Kinesis no longer has the shard
 * (ResourceNotFoundException), refuses the sequence number (InvalidArgumentException, as for one past the
 * trim horizon) or the iterator (ExpiredIteratorException). The records are past the stream's retention.
 */
export class StreamRangeGoneError extends AdapterError {
  readonly shardId: string;
  constructor(streamName: string, shardId: string, message: string, options?: ErrorOptions) {
    super('stream_range_gone', 'kinesis', streamName, message, options);
    this.name = 'StreamRangeGoneError';
    this.shardId = shardId;
  }
}

/** A Lambda function answered with a function error (it threw, or timed out) or not at all. */
export class FunctionInvokeError extends AdapterError {
  constructor(functionName: string, message: string, options?: ErrorOptions) {
    super('function_failed', 'lambda', functionName, message, options);
    this.name = 'FunctionInvokeError';
  }
}

/** `name: message` of any thrown value, for an error summary. */
export function describeError(error: unknown): { errorCode: string; errorMessage: string } {
  if (error instanceof Error) return { errorCode: error.name, errorMessage: error.message };
  return { errorCode: 'Error', errorMessage: String(error) };
}

/** S3 refused to delete some of compaction's inputs; they stay, and the next run deletes them. */
export class LakeDeleteError extends AdapterError {
  constructor(
    bucket: string,
    readonly failed: readonly { key: string; code: string; message: string }[],
    options?: ErrorOptions,
  ) {
    const first = failed[0];
    super(
      'lake_delete_failed',
      's3',
      bucket,
      `S3 refused to delete ${failed.length} lake object(s)${first ? `, e.g. ${first.key}: ${first.code} ${first.message}` : ''}`,
      options,
    );
    this.name = 'LakeDeleteError';
  }
}
