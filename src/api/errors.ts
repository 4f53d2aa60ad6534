import type { AdapterError, AdapterErrorCode } from '../adapters/errors.js';
import { EcomflowError } from '../errors.js';
/**
 * Errors the API answers with. Each maps to one HTTP status and a stable `error` code; the JSON body is
 * `{ error, message, ...details }`. Anything else becomes a 500 without details (see json-errors.ts).
 */

export const API_ERROR_CODES = {
  bad_request: 'bad_request',
  invalid_body: 'invalid_body',
  invalid_encoding: 'invalid_encoding',
  missing_columns: 'missing_columns',
  no_rows: 'no_rows',
  no_valid_rows: 'no_valid_rows',
  /** A change (PUT /invoices/{no}) with a row that is not valid: the whole change is refused. */
  invalid_rows: 'invalid_rows',
  /** A change with a row of another invoice than the path's. */
  invoice_mismatch: 'invoice_mismatch',
  invalid_parameter: 'invalid_parameter',
  invalid_cursor: 'invalid_cursor',
  not_found: 'not_found',
  method_not_allowed: 'method_not_allowed',
  payload_too_large: 'payload_too_large',
  unsupported_media_type: 'unsupported_media_type',
  stream_unavailable: 'stream_unavailable',
  quarantine_unavailable: 'quarantine_unavailable',
  table_unavailable: 'table_unavailable',
  erasure_unavailable: 'erasure_unavailable',
  /** A function the API invokes (the erase function) could not be invoked. */
  function_unavailable: 'function_unavailable',
  /** An AWS service failed under a route that has no more specific answer for it. */
  service_unavailable: 'service_unavailable',
  internal_error: 'internal_error',
} as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES];

export class ApiError extends EcomflowError {
  readonly statusCode: number;
  declare readonly code: ApiErrorCode;
  /** Extra fields of the JSON body, e.g. the ingest counts. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    statusCode: number,
    code: ApiErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions & { headers?: Record<string, string> },
  ) {
    super(code, message, options);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.details = details;
    this.headers = options?.headers ?? {};
  }
}

export class BadRequestError extends ApiError {
  constructor(
    code: ApiErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(400, code, message, details, options);
    this.name = 'BadRequestError';
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string) {
    super(404, API_ERROR_CODES.not_found, message);
    this.name = 'NotFoundError';
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(
      405,
      API_ERROR_CODES.method_not_allowed,
      `${method} is not allowed on ${path}; use ${allowed.join(', ')}`,
      {},
      { headers: { Allow: allowed.join(', ') } },
    );
    this.name = 'MethodNotAllowedError';
  }
}

export class PayloadTooLargeError extends ApiError {
  /** `bytes` null: a compressed body that decodes to more than `limit` (decoding stops there). */
  constructor(bytes: number | null, limit: number, options?: ErrorOptions) {
    super(
      413,
      API_ERROR_CODES.payload_too_large,
      bytes === null
        ? `body decodes to more than ${limit} bytes; the limit is ${limit} bytes (5 MB)`
        : `body is ${bytes} bytes; the limit is ${limit} bytes (5 MB)`,
      { limit_bytes: limit },
      options,
    );
    this.name = 'PayloadTooLargeError';
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  constructor(message: string, supported: readonly string[]) {
    super(415, API_ERROR_CODES.unsupported_media_type, message, { supported });
    this.name = 'UnsupportedMediaTypeError';
  }
}

export class ServiceUnavailableError extends ApiError {
  constructor(
    code: ApiErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(503, code, message, details, { ...options, headers: { 'Retry-After': '1' } });
    this.name = 'ServiceUnavailableError';
  }
}

/**
 * What the API answers when a service under it fails (an AdapterError that a route did not answer more
 * precisely itself, as ingest does with its counts): always 503 with Retry-After, because the client did
 * nothing wrong and the same request may succeed later. A 500 is kept for our own bugs. One entry for each
 * adapter error code, so a new code cannot be left unanswered (the Record type requires it), and the
 * mapping test walks this table.
 */
export const ADAPTER_FAILURE_ANSWERS: Readonly<
  Record<AdapterErrorCode, { error: ApiErrorCode; message: string }>
> = {
  stream_write_failed: {
    error: 'stream_unavailable',
    message: 'the stream cannot be written right now; try again',
  },
  stream_read_failed: {
    error: 'stream_unavailable',
    message: 'the stream cannot be read right now; try again',
  },
  stream_range_gone: {
    error: 'stream_unavailable',
    message: 'the stream cannot be read right now; try again',
  },
  table_write_failed: {
    error: 'table_unavailable',
    message: 'the tables cannot be written right now; try again',
  },
  table_read_failed: {
    error: 'table_unavailable',
    message: 'the tables cannot be read right now; try again',
  },
  quarantine_write_failed: {
    error: 'quarantine_unavailable',
    message: 'the quarantine cannot be written right now; try again',
  },
  function_failed: {
    error: 'function_unavailable',
    message: 'a function the API starts cannot be invoked right now; try again',
  },
  delivery_failed: { error: 'service_unavailable', message: 'a delivery stream failed; try again' },
  lake_delete_failed: {
    error: 'service_unavailable',
    message: 'the lake cannot be written right now; try again',
  },
  queue_delete_failed: {
    error: 'service_unavailable',
    message: 'a queue cannot be written right now; try again',
  },
};

/** The 503 of a failed service, from ADAPTER_FAILURE_ANSWERS; the adapter's error is its cause (logged, not sent). */
export function serviceUnavailable(error: AdapterError): ServiceUnavailableError {
  const answer = ADAPTER_FAILURE_ANSWERS[error.code];
  return new ServiceUnavailableError(answer.error, answer.message, {}, { cause: error });
}
