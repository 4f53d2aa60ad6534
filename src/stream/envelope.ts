import { SOURCE_FIELDS } from '../core/header.js';
import type { SourceRow } from '../core/row-objects.js';
import { EnvelopeError } from './errors.js';

export const ENVELOPE_VERSION = 1;

/**
 * What travels on the Kinesis stream: one source row as posted, in canonical spelling, with where it came
 * from. The transformer cleans it again with the same core, so the stream carries source data and the
 * cleaning rules live in one place.
 *
 * @example { "v": 1, "request_id": "c0ffee", "line": 2, "row": { "InvoiceNo": "536365", ... } }
 */
export interface StreamEnvelope {
  v: typeof ENVELOPE_VERSION;
  /** The API request that posted the row. */
  request_id: string;
  /** The row's line in that request's body. */
  line: number;
  row: SourceRow;
}

export function encodeEnvelope(envelope: StreamEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope));
}

/**
 * Parses and checks an envelope.
 * @throws EnvelopeError saying what is wrong with it
 */
export function decodeEnvelope(data: Uint8Array): StreamEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (cause) {
    throw new EnvelopeError(`record is not JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EnvelopeError('record is not a JSON object');
  }
  const e = value as Record<string, unknown>;
  if (e['v'] !== ENVELOPE_VERSION) {
    throw new EnvelopeError(`record version ${JSON.stringify(e['v'])} is not ${ENVELOPE_VERSION}`);
  }
  if (typeof e['request_id'] !== 'string') throw new EnvelopeError('record has no request_id string');
  const line = e['line'];
  if (typeof line !== 'number' || !Number.isSafeInteger(line) || line < 1) {
    throw new EnvelopeError(`record line ${JSON.stringify(line)} is not a positive integer`);
  }
  const row = e['row'];
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw new EnvelopeError('record has no row object');
  }
  const out = {} as SourceRow;
  for (const field of SOURCE_FIELDS) {
    const v = (row as Record<string, unknown>)[field];
    if (v !== undefined && typeof v !== 'string') {
      throw new EnvelopeError(`row field ${field} is ${typeof v}, not a string`);
    }
    out[field] = v ?? '';
  }
  return { v: ENVELOPE_VERSION, request_id: e['request_id'], line, row: out };
}
