import { cleanRow, type Rejection } from './clean.js';
import {
  type ColumnIndex,
  fieldForHeaderName,
  REQUIRED_FIELDS,
  resolveHeader,
  SOURCE_FIELDS,
  type SourceField,
} from './header.js';
import type { CleanLine } from './schema.js';

/** A source row as an object keyed by its source column names, as JSON and NDJSON bodies carry it. */
export type RowObject = Record<string, unknown>;

/** A row in canonical source spelling, with every value as text: what travels on the Kinesis stream. */
export type SourceRow = Record<SourceField, string>;

/** Index of a `SOURCE_FIELDS`-ordered array: every field in its own place. */
export const CANONICAL_COLUMNS: ColumnIndex = resolveHeader(SOURCE_FIELDS);

/**
 * Puts a JSON row's values in canonical order, matching keys as a CSV header is matched (case- and
 * space-insensitively, either export's names). Numbers become their text; null and absent become ''.
 * Returns the keys that are required but absent, so the caller can report them.
 */
export function rowObjectToFields(row: RowObject): { fields: string[]; missing: SourceField[] } {
  const fields: string[] = new Array(SOURCE_FIELDS.length).fill('');
  const present = new Set<SourceField>();
  for (const [key, value] of Object.entries(row)) {
    const field = fieldForHeaderName(key);
    if (field === undefined || present.has(field)) continue;
    present.add(field);
    fields[CANONICAL_COLUMNS.positions[field]] = valueText(value);
  }
  const missing = REQUIRED_FIELDS.filter((f) => !present.has(f));
  return { fields, missing };
}

/** A canonical row (the Kinesis payload) from canonical-order fields. */
export function toSourceRow(fields: readonly string[]): SourceRow {
  return Object.fromEntries(SOURCE_FIELDS.map((f, i) => [f, fields[i] ?? ''])) as SourceRow;
}

/** Cleans a canonical row, e.g. one read back from the stream. */
export function cleanSourceRow(row: SourceRow, line: number): CleanLine | Rejection {
  const fields = SOURCE_FIELDS.map((f) => (typeof row[f] === 'string' ? row[f] : valueText(row[f])));
  return cleanRow(fields, CANONICAL_COLUMNS, line, JSON.stringify(row));
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}
