/**
 * The core's one entry point from a body or file to rows: bytes (or text) of CSV, a JSON array of row
 * objects, or NDJSON, in the declared encoding; valid rows with their source values and clean lines, and
 * rejections, out. POST /ingest calls it; the streaming paths (batch, replay) push the same CSV loop,
 * `LineCleaner`, chunk by chunk.
 *
 * Every row goes through the cleaning core. A valid row keeps its source values in canonical order (what
 * goes on the stream); an invalid one becomes a `Rejection`. Nothing is deduplicated: exact duplicates
 * collapse downstream by `line_id`, and every posted row is counted, so `received = valid + rejected`.
 */
import { cleanRow, isRejection, type Rejection } from './clean.js';
import { type Encoding, StreamDecoder } from './decode.js';
import { BodyError } from './errors.js';
import { type ColumnIndex, SOURCE_FIELDS } from './header.js';
import { LineCleaner } from './line-cleaner.js';
import { QUARANTINE_REASONS } from './quarantine.js';
import {
  CANONICAL_COLUMNS,
  type RowObject,
  rowObjectToFields,
  type SourceRow,
  toSourceRow,
} from './row-objects.js';
import type { CleanLine } from './schema.js';

export const BODY_KINDS = { csv: 'csv', json: 'json', ndjson: 'ndjson' } as const;
export type BodyKind = (typeof BODY_KINDS)[keyof typeof BODY_KINDS];

/**
 * The deepest nesting of arrays and objects a JSON body may have. A body of rows needs 2 (an array of
 * objects); a value inside a field a little more. Deeper text is refused before it is parsed: parsing,
 * and writing a rejected row back as text, recurse once per level, and a 10,000-level body overflowed the
 * stack (a 500 for the client's mistake).
 */
export const JSON_MAX_DEPTH = 32;

/**
 * Whether JSON text nests arrays and objects deeper than `limit`, by one scan that skips strings; it stops
 * at the first level over the limit. The text need not be valid JSON (JSON.parse says what else is wrong).
 */
export function nestsDeeperThan(text: string, limit: number = JSON_MAX_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 || c === 123) {
      if (++depth > limit) return true;
    } else if (c === 93 || c === 125) {
      depth--;
    }
  }
  return false;
}

/** A row that is not a row at all (not JSON, not an object), like a CSV record that cannot be split. */
const MALFORMED = QUARANTINE_REASONS.malformed_row;

/** A valid row: where it was, what it said, and its clean line. */
export interface ValidRow {
  line: number;
  row: SourceRow;
  clean: CleanLine;
}

export interface ParsedRows {
  valid: ValidRow[];
  rejected: Rejection[];
}

/**
 * Decodes and parses a body or file of the given kind. Text (already decoded) is parsed as is.
 * @throws EncodingError (bytes invalid in `encoding`), HeaderError (CSV without required columns),
 *   BodyError (JSON that is not an array)
 * @example parseBody(Buffer.from(csv), 'csv', 'auto').valid.length
 */
export function parseBody(body: Uint8Array | string, kind: BodyKind, encoding: Encoding): ParsedRows {
  return parseRows(kind, decodeBody(body, encoding));
}

/** A body's text: bytes decoded in `encoding`, text as it is. @throws EncodingError */
function decodeBody(body: Uint8Array | string, encoding: Encoding): string {
  if (typeof body === 'string') return body;
  const decoder = new StreamDecoder(encoding);
  return decoder.write(body) + decoder.end();
}

/**
 * How much CSV text is cleaned before `parseBodyInSlices` lets other work run: about 2,500 rows of the
 * source, a few milliseconds. Cleaned in one call, a 5 MB body held a process's event loop for over a second.
 */
export const PARSE_SLICE_CHARS = 256 * 1024;

/**
 * `parseBody`, the same rows and errors, but a CSV body is cleaned PARSE_SLICE_CHARS at a time with
 * `pause()` between the slices, so that a server that parses several bodies at once still answers its other
 * requests (the local stack's gateway, /health among them, shares the API's thread). JSON and NDJSON are
 * parsed in one call: JSON.parse cannot be cut, and their bodies are bounded the same way.
 * @example await parseBodyInSlices(body, 'csv', 'auto', () => new Promise((r) => setImmediate(r)))
 */
export async function parseBodyInSlices(
  body: Uint8Array | string,
  kind: BodyKind,
  encoding: Encoding,
  pause: () => Promise<void>,
  sliceChars: number = PARSE_SLICE_CHARS,
): Promise<ParsedRows> {
  if (kind !== BODY_KINDS.csv) return parseBody(body, kind, encoding);
  const text = decodeBody(body, encoding);
  const { out, cleaner } = csvRowsCleaner();
  for (let at = 0; at < text.length; at += sliceChars) {
    if (at > 0) await pause();
    cleaner.push(text.slice(at, at + sliceChars));
  }
  cleaner.end();
  return out;
}

/**
 * Parses decoded text of the given kind.
 * @throws HeaderError (CSV without required columns), BodyError (JSON that is not an array)
 */
export function parseRows(kind: BodyKind, text: string): ParsedRows {
  switch (kind) {
    case BODY_KINDS.csv:
      return parseCsvRows(text);
    case BODY_KINDS.json:
      return parseJsonRows(text);
    case BODY_KINDS.ndjson:
      return parseNdjsonRows(text);
  }
}

/**
 * CSV with a header. Lines are physical lines (the header is line 1).
 * @throws HeaderError naming the missing required columns, or when there is no header
 */
export function parseCsvRows(text: string): ParsedRows {
  const { out, cleaner } = csvRowsCleaner();
  cleaner.push(text);
  cleaner.end();
  return out;
}

/** The core's loop, without deduplication (every posted row is counted and acknowledged), into `out`. */
function csvRowsCleaner(): { out: ParsedRows; cleaner: LineCleaner } {
  const out: ParsedRows = { valid: [], rejected: [] };
  const cleaner: LineCleaner = new LineCleaner({
    line: (clean, record) =>
      out.valid.push({ line: record.line, row: canonicalRow(record.fields, cleaner.header!), clean }),
    reject: (rejection) => out.rejected.push(rejection),
  });
  return { out, cleaner };
}

/**
 * A JSON array of row objects keyed by source column names. Lines are 1-based positions in the array.
 * @throws BodyError when the body is not JSON, not an array, or nested deeper than JSON_MAX_DEPTH
 */
export function parseJsonRows(text: string): ParsedRows {
  if (nestsDeeperThan(text)) {
    throw new BodyError(`body nests arrays or objects deeper than ${JSON_MAX_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new BodyError(`body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(value)) {
    throw new BodyError(
      `expected a JSON array of row objects, got ${value === null ? 'null' : typeof value}`,
    );
  }
  const out: ParsedRows = { valid: [], rejected: [] };
  value.forEach((element: unknown, i) => {
    addObjectRow(out, element, i + 1, undefined);
  });
  return out;
}

/** One JSON row object per line; blank lines are skipped. Lines are physical lines. */
export function parseNdjsonRows(text: string): ParsedRows {
  const out: ParsedRows = { valid: [], rejected: [] };
  const lines = text.split('\n');
  lines.forEach((rawLine, i) => {
    const raw = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (raw.trim() === '') return;
    const line = i + 1;
    if (nestsDeeperThan(raw)) {
      out.rejected.push({
        line,
        raw,
        reason: MALFORMED,
        field: null,
        message: `line ${line}: nests arrays or objects deeper than ${JSON_MAX_DEPTH} levels`,
      });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      out.rejected.push({
        line,
        raw,
        reason: MALFORMED,
        field: null,
        message: `line ${line}: is not valid JSON (${(cause as Error).message})`,
      });
      return;
    }
    addObjectRow(out, value, line, raw);
  });
  return out;
}

function addObjectRow(out: ParsedRows, value: unknown, line: number, rawText: string | undefined): void {
  const raw = rawText ?? JSON.stringify(value) ?? String(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    out.rejected.push({
      line,
      raw,
      reason: MALFORMED,
      field: null,
      message: `line ${line}: is ${what}, not a row object`,
    });
    return;
  }
  const { fields, missing } = rowObjectToFields(value as RowObject);
  if (missing.length > 0) {
    out.rejected.push({
      line,
      raw,
      reason: QUARANTINE_REASONS.missing_field,
      field: missing[0]!,
      message: `line ${line}: missing required key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    });
    return;
  }
  const result = cleanRow(fields, CANONICAL_COLUMNS, line, raw);
  if (isRejection(result)) out.rejected.push(result);
  else out.valid.push({ line, row: toSourceRow(fields), clean: result });
}

/** A CSV record's values in canonical order; a column the header lacks is ''. */
function canonicalRow(fields: readonly string[], columns: ColumnIndex): SourceRow {
  return toSourceRow(
    SOURCE_FIELDS.map((f) => {
      const at = columns.positions[f];
      return at === -1 ? '' : (fields[at] ?? '');
    }),
  );
}
