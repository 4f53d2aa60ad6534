import { cleanRow, isRejection, type Rejection } from './clean.js';
import { CsvParser, type CsvRecord } from './csv.js';
import { HeaderError } from './errors.js';
import { type ColumnIndex, resolveHeader } from './header.js';
import { LineIdSet } from './id-set.js';
import { QUARANTINE_REASONS, ROW_REASONS, type RowReason } from './quarantine.js';
import type { CleanLine } from './schema.js';

/** The counts every path reports. Invariant: rows_read = rows_clean + duplicates + quarantined. */
export interface CleanReport {
  rows_read: number;
  rows_clean: number;
  duplicates: number;
  quarantined: number;
  by_reason: Record<RowReason, number>;
}

export function emptyReport(): CleanReport {
  const byReason = Object.fromEntries(ROW_REASONS.map((r) => [r, 0]));
  return {
    rows_read: 0,
    rows_clean: 0,
    duplicates: 0,
    quarantined: 0,
    by_reason: byReason as Record<RowReason, number>,
  };
}

/** Where cleaned rows go. Called synchronously, in input order. */
export interface CleanSink {
  /** The first record, before it is resolved as the header (a client that re-sends rows repeats it). */
  header?(record: CsvRecord): void;
  /** A clean line, with the record it came from. */
  line(line: CleanLine, record: CsvRecord): void;
  reject(rejection: Rejection): void;
  /** An exact duplicate of a line already passed to `line` (only when deduplicating). */
  duplicate?(line: CleanLine): void;
}

export interface LineCleanerOptions {
  /**
   * Drop exact duplicates (same line_id) and count them. Batch paths want this; the API does not, since
   * its duplicates collapse downstream and every posted row must be acknowledged.
   */
  dedupe?: boolean;
}

/**
 * Decoded CSV text in, clean lines and rejections out, with the counts kept.
 *
 * @example
 * const cleaner = new LineCleaner({ line: (l) => lines.push(l), reject: (r) => bad.push(r) });
 * cleaner.push(text); cleaner.end(); cleaner.report.rows_read;
 */
export class LineCleaner {
  readonly report: CleanReport = emptyReport();
  private readonly parser = new CsvParser();
  private readonly seen: LineIdSet | null;
  private columns: ColumnIndex | null = null;
  private readonly batch: CsvRecord[] = [];

  constructor(
    private readonly sink: CleanSink,
    options: LineCleanerOptions = {},
  ) {
    this.seen = options.dedupe ? new LineIdSet() : null;
  }

  /** The resolved header, once the first record has been read. */
  get header(): ColumnIndex | null {
    return this.columns;
  }

  /** @throws HeaderError when the first record is not a usable header. */
  push(text: string): void {
    this.parser.push(text, this.batch);
    this.drain();
  }

  /** @throws HeaderError when the input had no header at all. */
  end(): void {
    this.parser.end(this.batch);
    this.drain();
    if (!this.columns) throw new HeaderError('input is empty: expected a header row', []);
  }

  private drain(): void {
    const records = this.batch;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (!this.columns) {
        this.sink.header?.(record);
        this.columns = resolveHeader(record.fields);
        continue;
      }
      this.accept(record);
    }
    records.length = 0;
  }

  private accept(record: CsvRecord): void {
    const report = this.report;
    report.rows_read++;
    const result: CleanLine | Rejection = record.malformed
      ? {
          line: record.line,
          raw: record.raw,
          reason: QUARANTINE_REASONS.malformed_row,
          field: null,
          message: `line ${record.line}: a quoted field is never closed`,
        }
      : cleanRow(record.fields, this.columns!, record.line, record.raw);
    if (isRejection(result)) {
      report.quarantined++;
      report.by_reason[result.reason]++;
      this.sink.reject(result);
      return;
    }
    if (this.seen && !this.seen.add(result.line_id)) {
      report.duplicates++;
      this.sink.duplicate?.(result);
      return;
    }
    report.rows_clean++;
    this.sink.line(result, record);
  }
}
