import { SOURCE_FIELDS, type SourceField } from '../core/header.js';
import type { SourceRow } from '../core/row-objects.js';
import { EnvelopeError } from './errors.js';

/**
 * What travels on the Kinesis stream: source rows as posted, in canonical spelling, with where they came
 * from. The transformer cleans them again with the same core, so the stream carries source data and the
 * cleaning rules live in one place.
 *
 * Two versions are read, so that a rolling deploy never strands records already on the stream:
 * - **1**, one row a record: `{ "v": 1, "request_id": "c0ffee", "line": 2, "row": { "InvoiceNo": "536365", ... } }`.
 * - **2**, packed: the rows of one invoice from one request, each as its line number then its values in the
 *   order `fields` names (written in every record, so a change of field order cannot misread old records):
 *   `{ "v": 2, "request_id": "c0ffee", "fields": ["InvoiceNo", ...], "lines": [[2, "536365", ...], ...] }`.
 *
 * The API writes version 2. A Kinesis shard takes 1,000 records/s and 1 MiB/s, so one line a record caps a
 * shard at 1,000 lines/s; packed, the byte limit decides, and the field names are not repeated per line.
 */
export const ENVELOPE_VERSIONS = { single: 1, packed: 2 } as const;

/** Version 1: one row. */
export interface SingleEnvelope {
  v: typeof ENVELOPE_VERSIONS.single;
  /** The API request that posted the row. */
  request_id: string;
  /** The row's line in that request's body. */
  line: number;
  row: SourceRow;
}

/** Version 2: rows of one invoice, `[line, ...values in fields order]`. */
export interface PackedEnvelope {
  v: typeof ENVELOPE_VERSIONS.packed;
  request_id: string;
  fields: readonly SourceField[];
  lines: readonly (readonly [number, ...string[]])[];
}

/** One row out of a record, whichever version carried it. */
export interface EnvelopeLine {
  request_id: string;
  line: number;
  row: SourceRow;
}

/** What a record held: its rows, and the entries that were not rows (each a quarantine of its own). */
export interface DecodedRecord {
  lines: EnvelopeLine[];
  malformed: { line: number | null; raw: string; message: string }[];
}

/**
 * The most bytes of one packed record's data. Kinesis takes 1 MiB a record; a smaller bound keeps a Lambda
 * batch (up to 6 MB) to many records, so that a failure moves the checkpoint back by little.
 */
export const PACKED_RECORD_MAX_BYTES = 64 * 1024;

/** A record to put, and the indexes (into the caller's rows) of the rows it carries. */
export interface PackedRecord {
  partitionKey: string;
  data: Buffer;
  rows: number[];
}

/** A row to pack, with the key that keeps its invoice on one shard. */
export interface RowToPack {
  partitionKey: string;
  line: number;
  row: SourceRow;
}

export function encodeEnvelope(envelope: SingleEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope));
}

/**
 * Packs rows into version 2 records: one record per partition key (an invoice) and request, in the order the
 * keys first appear, split where a record would pass `maxBytes`. A row too big to share a record travels
 * alone (the contract's field bounds keep every row far under the bound).
 */
export function packEnvelopes(
  requestId: string,
  rows: readonly RowToPack[],
  maxBytes: number = PACKED_RECORD_MAX_BYTES,
): PackedRecord[] {
  const byKey = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const group = byKey.get(r.partitionKey);
    if (group) group.push(i);
    else byKey.set(r.partitionKey, [i]);
  });
  const head = `{"v":${ENVELOPE_VERSIONS.packed},"request_id":${JSON.stringify(requestId)},"fields":${JSON.stringify(SOURCE_FIELDS)},"lines":[`;
  const headBytes = Buffer.byteLength(head);
  const records: PackedRecord[] = [];
  for (const [partitionKey, indexes] of byKey) {
    let entries: string[] = [];
    let members: number[] = [];
    let bytes = headBytes + 2; // `]}`
    const close = () => {
      records.push({ partitionKey, data: Buffer.from(`${head}${entries.join(',')}]}`), rows: members });
      entries = [];
      members = [];
      bytes = headBytes + 2;
    };
    for (const i of indexes) {
      const r = rows[i]!;
      const entry = JSON.stringify([r.line, ...SOURCE_FIELDS.map((f) => r.row[f])]);
      const entryBytes = Buffer.byteLength(entry);
      if (entries.length > 0 && bytes + 1 + entryBytes > maxBytes) close();
      bytes += entryBytes + (entries.length > 0 ? 1 : 0);
      entries.push(entry);
      members.push(i);
    }
    if (entries.length > 0) close();
  }
  return records;
}

/**
 * Reads a record of either version. A record that is not an envelope at all throws; a packed record whose
 * envelope is sound but one entry is not a row keeps its other rows and names the bad entry in `malformed`.
 * @throws EnvelopeError saying what is wrong with the record
 */
export function decodeRecord(data: Uint8Array): DecodedRecord {
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
  const requestId = e['request_id'];
  if (typeof requestId !== 'string') throw new EnvelopeError('record has no request_id string');
  if (e['v'] === ENVELOPE_VERSIONS.single) {
    return {
      lines: [{ request_id: requestId, line: lineNumber(e['line']), row: rowObject(e['row']) }],
      malformed: [],
    };
  }
  if (e['v'] === ENVELOPE_VERSIONS.packed) return decodePacked(requestId, e['fields'], e['lines']);
  throw new EnvelopeError(
    `record version ${JSON.stringify(e['v'])} is not one of ${Object.values(ENVELOPE_VERSIONS).join(', ')}`,
  );
}

function decodePacked(requestId: string, fields: unknown, lines: unknown): DecodedRecord {
  if (!Array.isArray(fields) || fields.some((f) => !(SOURCE_FIELDS as readonly unknown[]).includes(f))) {
    throw new EnvelopeError(`record fields ${JSON.stringify(fields)} are not source field names`);
  }
  if (!Array.isArray(lines) || lines.length === 0) throw new EnvelopeError('record has no lines array');
  const out: DecodedRecord = { lines: [], malformed: [] };
  for (const entry of lines as unknown[]) {
    try {
      if (!Array.isArray(entry) || entry.length !== fields.length + 1) {
        throw new EnvelopeError(`entry is not [line, ...${fields.length} values]`);
      }
      const line = lineNumber(entry[0]);
      const row = Object.fromEntries(SOURCE_FIELDS.map((f) => [f, ''])) as SourceRow;
      (fields as SourceField[]).forEach((field, i) => {
        const v: unknown = entry[i + 1];
        if (typeof v !== 'string') throw new EnvelopeError(`row field ${field} is ${typeof v}, not a string`);
        row[field] = v;
      });
      out.lines.push({ request_id: requestId, line, row });
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      const line = Array.isArray(entry) && Number.isSafeInteger(entry[0]) ? (entry[0] as number) : null;
      out.malformed.push({ line, raw: JSON.stringify(entry), message: error.message });
    }
  }
  return out;
}

function lineNumber(line: unknown): number {
  if (typeof line !== 'number' || !Number.isSafeInteger(line) || line < 1) {
    throw new EnvelopeError(`record line ${JSON.stringify(line)} is not a positive integer`);
  }
  return line;
}

function rowObject(row: unknown): SourceRow {
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
  return out;
}
