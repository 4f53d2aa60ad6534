import { SOURCE_FIELDS, type SourceField } from '../core/header.js';
import type { SourceRow } from '../core/row-objects.js';
import { CHANGE_KINDS } from '../core/schema.js';
import { EnvelopeError } from './errors.js';

/**
 * What travels on the Kinesis stream: source rows as posted, in canonical spelling, with where they came
 * from. The transformer cleans them again with the same core, so the stream carries source data and the
 * cleaning rules live in one place.
 *
 * Three versions are read, so that a rolling deploy never strands records already on the stream:
 * - **1**, one row a record: `{ "v": 1, "request_id": "c0ffee", "line": 2, "row": { "InvoiceNo": "536365", ... } }`.
 * - **2**, packed: the rows of one invoice from one request, each as its line number then its values in the
 *   order `fields` names (written in every record, so a change of field order cannot misread old records):
 *   `{ "v": 2, "request_id": "c0ffee", "version": 7..., "fields": ["InvoiceNo", ...], "lines": [[2, "536365", ...], ...] }`.
 *   `version` is the write's version (src/core/changes.ts); records from before versions have none (0).
 * - **3**, a change of one whole invoice: a replace with its complete new set of lines (at least one), or a
 *   delete with none: `{ "v": 3, "request_id": "c0ffee", "version": 7..., "change": "replace",
 *   "invoice_no": "536365", "fields": [...], "lines": [[2, "536365", ...], ...] }`. One record, so the
 *   transformer applies the whole change or none of it.
 *
 * The API writes versions 2 and 3. A Kinesis shard takes 1,000 records/s and 1 MiB/s, so one line a record
 * caps a shard at 1,000 lines/s; packed, the byte limit decides, and the field names are not repeated.
 */
export const ENVELOPE_VERSIONS = { single: 1, packed: 2, change: 3 } as const;

/** The changes a version 3 record carries. */
export const INVOICE_CHANGES = { replace: CHANGE_KINDS.replace, delete: CHANGE_KINDS.delete } as const;
export type InvoiceChange = (typeof INVOICE_CHANGES)[keyof typeof INVOICE_CHANGES];

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
  version?: number;
  fields: readonly SourceField[];
  lines: readonly (readonly [number, ...string[]])[];
}

/** Version 3: a whole invoice's change. */
export interface ChangeEnvelope {
  v: typeof ENVELOPE_VERSIONS.change;
  request_id: string;
  version: number;
  change: InvoiceChange;
  invoice_no: string;
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
  /** The write's version; 0 for records from before versions. */
  version: number;
  /** The request that wrote the record. */
  requestId: string;
  /** For version 3: the invoice and what happens to it; null for rows that add lines. */
  change: { kind: InvoiceChange; invoice_no: string } | null;
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
  version?: number,
): PackedRecord[] {
  const records: PackedRecord[] = [];
  const packer = recordPacker(requestId, rows, maxBytes, version, records);
  for (const [partitionKey, indexes] of packer.groups) packer.pack(partitionKey, indexes);
  return records;
}

/** How many rows `packEnvelopesInSlices` packs before it lets other work run (a few milliseconds' worth). */
export const PACK_SLICE_ROWS = 2_500;

/**
 * `packEnvelopes`, the same records in the same order, with `pause()` after about PACK_SLICE_ROWS rows (at
 * an invoice's end): packing a 5 MB body's 55,000 rows at once held the local stack's thread for 0.6 s.
 */
export async function packEnvelopesInSlices(
  requestId: string,
  rows: readonly RowToPack[],
  pause: () => Promise<void>,
  version?: number,
): Promise<PackedRecord[]> {
  const records: PackedRecord[] = [];
  const packer = recordPacker(requestId, rows, PACKED_RECORD_MAX_BYTES, version, records);
  let sincePause = 0;
  for (const [partitionKey, indexes] of packer.groups) {
    packer.pack(partitionKey, indexes);
    sincePause += indexes.length;
    if (sincePause >= PACK_SLICE_ROWS) {
      sincePause = 0;
      await pause();
    }
  }
  return records;
}

/** The rows grouped by partition key (in the order keys first appear), and the packing of one group. */
function recordPacker(
  requestId: string,
  rows: readonly RowToPack[],
  maxBytes: number,
  version: number | undefined,
  records: PackedRecord[],
): { groups: Map<string, number[]>; pack: (partitionKey: string, indexes: readonly number[]) => void } {
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const group = groups.get(r.partitionKey);
    if (group) group.push(i);
    else groups.set(r.partitionKey, [i]);
  });
  const versionField = version === undefined ? '' : `"version":${version},`;
  const head = `{"v":${ENVELOPE_VERSIONS.packed},"request_id":${JSON.stringify(requestId)},${versionField}"fields":${JSON.stringify(SOURCE_FIELDS)},"lines":[`;
  const headBytes = Buffer.byteLength(head);
  const pack = (partitionKey: string, indexes: readonly number[]) => {
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
  };
  return { groups, pack };
}

/**
 * The one record of a change: the invoice's whole new set of lines (a replace), or none (a delete). Its
 * partition key is the invoice, as for its lines, so a change and the invoice's lines share a shard and
 * arrive in the order they were put.
 */
export function encodeChange(
  requestId: string,
  version: number,
  change: InvoiceChange,
  invoiceNo: string,
  rows: readonly Pick<RowToPack, 'line' | 'row'>[],
): PackedRecord {
  const envelope: ChangeEnvelope = {
    v: ENVELOPE_VERSIONS.change,
    request_id: requestId,
    version,
    change,
    invoice_no: invoiceNo,
    fields: SOURCE_FIELDS,
    lines: rows.map((r) => [r.line, ...SOURCE_FIELDS.map((f) => r.row[f])] as const),
  };
  return {
    partitionKey: invoiceNo,
    data: Buffer.from(JSON.stringify(envelope)),
    rows: rows.map((_, i) => i),
  };
}

/**
 * Reads a record of any version. A record that is not an envelope at all throws; a packed record whose
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
      version: 0,
      requestId,
      change: null,
    };
  }
  if (e['v'] === ENVELOPE_VERSIONS.packed) {
    const version = e['version'] === undefined ? 0 : writeVersion(e['version']);
    return { ...decodePacked(requestId, e['fields'], e['lines'], false), version, requestId, change: null };
  }
  if (e['v'] === ENVELOPE_VERSIONS.change) {
    const kind = e['change'];
    if (!(Object.values(INVOICE_CHANGES) as unknown[]).includes(kind)) {
      throw new EnvelopeError(`record change ${JSON.stringify(kind)} is not replace or delete`);
    }
    const invoiceNo = e['invoice_no'];
    if (typeof invoiceNo !== 'string' || invoiceNo === '') {
      throw new EnvelopeError('change record has no invoice_no string');
    }
    const decoded = decodePacked(requestId, e['fields'], e['lines'], kind === INVOICE_CHANGES.delete);
    if (kind === INVOICE_CHANGES.replace && decoded.lines.length + decoded.malformed.length === 0) {
      throw new EnvelopeError('replace record has no lines');
    }
    return {
      ...decoded,
      version: writeVersion(e['version']),
      requestId,
      change: { kind: kind as InvoiceChange, invoice_no: invoiceNo },
    };
  }
  throw new EnvelopeError(
    `record version ${JSON.stringify(e['v'])} is not one of ${Object.values(ENVELOPE_VERSIONS).join(', ')}`,
  );
}

function decodePacked(
  requestId: string,
  fields: unknown,
  lines: unknown,
  mayBeEmpty: boolean,
): Pick<DecodedRecord, 'lines' | 'malformed'> {
  if (!Array.isArray(fields) || fields.some((f) => !(SOURCE_FIELDS as readonly unknown[]).includes(f))) {
    throw new EnvelopeError(`record fields ${JSON.stringify(fields)} are not source field names`);
  }
  if (!Array.isArray(lines) || (lines.length === 0 && !mayBeEmpty)) {
    throw new EnvelopeError('record has no lines array');
  }
  const out: Pick<DecodedRecord, 'lines' | 'malformed'> = { lines: [], malformed: [] };
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

function writeVersion(version: unknown): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new EnvelopeError(`record write version ${JSON.stringify(version)} is not a positive integer`);
  }
  return version;
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
