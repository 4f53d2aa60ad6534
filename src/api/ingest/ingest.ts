import { KinesisPutError, QuarantineWriteError } from '../../adapters/errors.js';
import { putRecords } from '../../adapters/kinesis.js';
import { writeQuarantine } from '../../adapters/s3.js';
import { BODY_KINDS, type BodyKind, type ParsedRows, parseBodyInSlices } from '../../core/body.js';
import type { Rejection } from '../../core/clean.js';
import type { Encoding } from '../../core/decode.js';
import { BodyError, EncodingError, HeaderError } from '../../core/errors.js';
import { quarantineKey, quarantineRecord } from '../../core/quarantine.js';
import { packEnvelopesInSlices } from '../../stream/envelope.js';
import type { ApiDeps } from '../deps.js';
import {
  BadRequestError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
} from '../errors.js';
import { bodySize, type HttpResponse, json, parseMediaType } from '../http.js';
import { decodeContent } from './content-encoding.js';

/** The body limit: 5 MB. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;
/**
 * At most this many rejections are listed in a response: the errors of a 5 MB body could exceed Lambda's
 * 6 MB response limit. `rejected` is always exact, `errors_omitted` says how many are not listed, and every
 * rejection is in the quarantine.
 */
export const MAX_ERRORS_IN_RESPONSE = 1_000;

export const MEDIA_TYPES: Readonly<Record<string, BodyKind>> = {
  'text/csv': BODY_KINDS.csv,
  'application/json': BODY_KINDS.json,
  'application/x-ndjson': BODY_KINDS.ndjson,
};

const CHARSETS: Readonly<Record<string, Encoding>> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'us-ascii': 'utf-8',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  'iso-8859-1': 'latin1',
  latin1: 'latin1',
};

export interface IngestRequest {
  contentType: string | undefined;
  /** `Content-Encoding`: absent or `identity`, or `gzip` (decoded here, within the body limit). */
  contentEncoding?: string | undefined;
  /** Bytes as sent, or text API Gateway already decoded. */
  body: Buffer | string;
  requestId: string;
}

/** The 202 body; also the counts inside a 400 or 503 body. */
export interface IngestSummary {
  received: number;
  accepted: number;
  rejected: number;
  errors: { line: number; reason: string; field: string | null; message: string }[];
  /** Present when `errors` lists only the first MAX_ERRORS_IN_RESPONSE. */
  errors_omitted?: number;
}

/** Lets the other requests of the process run between two slices of a body's parse or packing (PARSE_SLICE_CHARS, PACK_SLICE_ROWS). */
const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * POST /ingest: validate every row, quarantine the invalid ones, put the valid ones on the stream.
 *
 * - 202 when every valid row was acknowledged by Kinesis (and the rejections are in the quarantine).
 * - 400 when no row is valid (they are still quarantined), or the body/header is unusable.
 * - 503 when Kinesis did not acknowledge every valid row after retries, or the quarantine write failed.
 *   The body says how many rows were stored (`accepted` counts only acknowledged rows) and how many were
 *   not (`not_stored`). Re-posting the whole request is safe: lines are idempotent by `line_id`.
 */
export async function ingest(request: IngestRequest, deps: ApiDeps): Promise<HttpResponse> {
  const parsed = await readRows(request);
  const received = parsed.valid.length + parsed.rejected.length;

  const quarantined =
    parsed.rejected.length > 0 ? quarantine(parsed.rejected, request.requestId, deps) : Promise.resolve();
  if (parsed.valid.length === 0) {
    try {
      await quarantined;
    } catch (error) {
      if (!(error instanceof QuarantineWriteError)) throw error;
      throw new ServiceUnavailableError(
        'quarantine_unavailable',
        `none of the ${received} rows is valid, and they could not be quarantined; post the request again`,
        { ...summary(parsed, 0), not_stored: 0 },
        { cause: error },
      );
    }
    throw new BadRequestError(
      'no_valid_rows',
      `none of the ${received} rows is valid (first: ${parsed.rejected[0]!.message})`,
      { ...summary(parsed, 0) },
    );
  }

  // One record per invoice of the request: the invoice number keeps an invoice's lines on one shard, and
  // its bound in the record contract keeps it a valid partition key (at most 256 characters).
  const packed = await packEnvelopesInSlices(
    request.requestId,
    parsed.valid.map((v) => ({ partitionKey: v.clean.invoice_no, line: v.line, row: v.row })),
    yieldToOthers,
    deps.version(),
  );
  const [put, q] = await Promise.allSettled([
    putRecords(deps.kinesis, deps.config.streamName, packed, deps.retry),
    quarantined,
  ]);

  let accepted = parsed.valid.length;
  if (put.status === 'rejected') {
    if (!(put.reason instanceof KinesisPutError)) throw put.reason;
    const acknowledged = put.reason.acknowledged;
    // A row is stored when the record carrying it is.
    accepted = packed.reduce((n, p, i) => n + (acknowledged[i] ? p.rows.length : 0), 0);
  }
  if (q.status === 'rejected' && !(q.reason instanceof QuarantineWriteError)) throw q.reason;
  if (put.status === 'fulfilled' && q.status === 'fulfilled') return json(202, summary(parsed, accepted));

  const counts = { ...summary(parsed, accepted), not_stored: parsed.valid.length - accepted };
  if (put.status === 'rejected') {
    throw new ServiceUnavailableError(
      'stream_unavailable',
      `the stream stored ${accepted} of ${parsed.valid.length} valid rows; post the request again (re-posting is safe: lines are idempotent)`,
      counts,
      { cause: put.reason },
    );
  }
  throw new ServiceUnavailableError(
    'quarantine_unavailable',
    `all ${accepted} valid rows were stored, but the ${parsed.rejected.length} rejected rows could not be quarantined; post the request again (re-posting is safe: lines are idempotent)`,
    counts,
    { cause: (q as PromiseRejectedResult).reason },
  );
}

/**
 * A request's rows, cleaned: the body's media type and charset, its size within MAX_BODY_BYTES (decoded
 * too), then the core's one entry point from bytes to clean rows and rejections.
 * @throws ApiError (4xx) for a body that is not usable at all, or has no rows
 */
export async function readRows(request: IngestRequest): Promise<ParsedRows> {
  const { kind, encoding } = bodyFormat(request.contentType);
  const size = bodySize(request.body);
  if (size > MAX_BODY_BYTES) throw new PayloadTooLargeError(size, MAX_BODY_BYTES);
  // The limit holds for the decoded body too: a compressed body is bounded by what it decodes to.
  const body = await decodeContent(request.body, request.contentEncoding, MAX_BODY_BYTES);
  if (bodySize(body) === 0) throw new BadRequestError('invalid_body', 'body is empty');
  const parsed = await parse(body, kind, encoding);
  if (parsed.valid.length + parsed.rejected.length === 0) {
    throw new BadRequestError('no_rows', 'body has no rows');
  }
  return parsed;
}

function bodyFormat(contentType: string | undefined): { kind: BodyKind; encoding: Encoding } {
  const supported = Object.keys(MEDIA_TYPES);
  if (!contentType) {
    throw new UnsupportedMediaTypeError(
      `Content-Type is missing; send one of ${supported.join(', ')}`,
      supported,
    );
  }
  const { type, params } = parseMediaType(contentType);
  const kind = MEDIA_TYPES[type];
  if (!kind) {
    throw new UnsupportedMediaTypeError(
      `Content-Type ${JSON.stringify(type)} is not supported; send one of ${supported.join(', ')}`,
      supported,
    );
  }
  const charset = params['charset'];
  if (charset === undefined) return { kind, encoding: 'auto' };
  const encoding = CHARSETS[charset];
  if (!encoding) {
    throw new UnsupportedMediaTypeError(
      `charset ${JSON.stringify(charset)} is not supported; use one of ${Object.keys(CHARSETS).join(', ')}`,
      supported,
    );
  }
  return { kind, encoding };
}

/** The body through the core's entry point; what is wrong with the body itself is a 400 naming it. */
async function parse(body: Buffer | string, kind: BodyKind, encoding: Encoding): Promise<ParsedRows> {
  try {
    return await parseBodyInSlices(body, kind, encoding, yieldToOthers);
  } catch (error) {
    if (error instanceof EncodingError) {
      throw new BadRequestError(
        'invalid_encoding',
        error.message.replace(/; pass --encoding.*$/, '; declare charset=windows-1252 (or latin1)'),
        {},
        { cause: error },
      );
    }
    if (error instanceof BodyError)
      throw new BadRequestError('invalid_body', error.message, {}, { cause: error });
    if (error instanceof HeaderError) {
      if (error.missing.length === 0)
        throw new BadRequestError('no_rows', error.message, {}, { cause: error });
      throw new BadRequestError(
        'missing_columns',
        error.message,
        { missing: error.missing },
        { cause: error },
      );
    }
    throw error;
  }
}

export function summary(parsed: ParsedRows, accepted: number): IngestSummary {
  const errors = parsed.rejected
    .slice(0, MAX_ERRORS_IN_RESPONSE)
    .map(({ line, reason, field, message }) => ({ line, reason, field, message }));
  const out: IngestSummary = {
    received: parsed.valid.length + parsed.rejected.length,
    accepted,
    rejected: parsed.rejected.length,
    errors,
  };
  if (parsed.rejected.length > errors.length) out.errors_omitted = parsed.rejected.length - errors.length;
  return out;
}

/** One NDJSON object per request under `api/date=<day>/`, each row with its reason and origin. */
async function quarantine(rejected: readonly Rejection[], requestId: string, deps: ApiDeps): Promise<void> {
  const now = (deps.now ?? (() => new Date()))();
  const day = now.toISOString().slice(0, 10);
  const origin = { source: 'api', request_id: requestId, stage: deps.config.stage } as const;
  const rows = rejected.map((r) => quarantineRecord(r, origin, now));
  const name = requestId.replace(/[^A-Za-z0-9._-]/g, '_');
  await writeQuarantine(deps.s3, deps.config.quarantine, quarantineKey('api', day, name), rows);
}
