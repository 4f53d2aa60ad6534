import { isRejection } from './clean.js';
import { SOURCE_FIELDS } from './header.js';
import { LineCleaner } from './line-cleaner.js';
import { type QuarantineRecord, ROW_REASONS, type RowReason } from './quarantine.js';
import { cleanSourceRow, type SourceRow } from './row-objects.js';
import type { CleanLine } from './schema.js';

/**
 * Which quarantined rows today's rules clean: the rules may have changed since (a date format added), or
 * the row was quarantined for a reason that no longer holds. Pure: the CLI reads the rows from the
 * quarantine table and posts what cleans through the API, the same path as new rows.
 *
 * A CSV row's record is read with the "Online Retail" header (SOURCE_FIELDS, the export's own order): the
 * quarantine keeps the record, not the header it came under, so a row from a file with its columns in
 * another order cannot be rechecked safely and is left where it is (`needs_header`).
 */
export interface RecheckPlan {
  /** Rows that clean now, as they would be posted: CSV records (with the header) and JSON objects. */
  csv: { header: string; records: string[] };
  json: SourceRow[];
  /** The lines they clean to, for the report (each line_id once). */
  lines: CleanLine[];
  /** Rows still refused, by today's reason. */
  stillRefused: Partial<Record<RowReason, number>>;
  /** Rows not rechecked, and why. */
  skipped: { stream_reason: number; needs_header: number };
}

export function planRecheck(rows: readonly Pick<QuarantineRecord, 'raw' | 'reason'>[]): RecheckPlan {
  const plan: RecheckPlan = {
    csv: { header: SOURCE_FIELDS.join(','), records: [] },
    json: [],
    lines: [],
    stillRefused: {},
    skipped: { stream_reason: 0, needs_header: 0 },
  };
  const ids = new Set<string>();
  const keep = (line: CleanLine) => {
    if (!ids.has(line.line_id)) plan.lines.push(line);
    ids.add(line.line_id);
  };
  const refuse = (reason: RowReason) => {
    plan.stillRefused[reason] = (plan.stillRefused[reason] ?? 0) + 1;
  };
  for (const row of rows) {
    // A stream reason's row is a record or a clean line, not a source row: nothing to run the rules on.
    if (!(ROW_REASONS as readonly string[]).includes(row.reason)) {
      plan.skipped.stream_reason++;
      continue;
    }
    const json = parseObject(row.raw);
    if (json) {
      const result = cleanSourceRow(json, 1);
      if (isRejection(result)) refuse(result.reason as RowReason);
      else {
        plan.json.push(json);
        keep(result);
      }
      continue;
    }
    let line: CleanLine | null = null;
    let rejected: RowReason | null = null;
    const cleaner = new LineCleaner({
      line: (l) => {
        line = l;
      },
      reject: (r) => {
        rejected = r.reason as RowReason;
      },
    });
    cleaner.push(`${plan.csv.header}\n${row.raw}\n`);
    cleaner.end();
    if (line) {
      plan.csv.records.push(row.raw);
      keep(line);
    } else if (rejected === 'wrong_column_count') {
      plan.skipped.needs_header++;
    } else if (rejected) {
      refuse(rejected);
    }
  }
  return plan;
}

function parseObject(raw: string): SourceRow | null {
  if (!raw.trimStart().startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as SourceRow) : null;
  } catch {
    return null;
  }
}
