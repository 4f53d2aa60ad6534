/**
 * Changes after the fact: the versions of writes, and the rule that says which stored rows an analyst sees.
 *
 * Every row a store keeps carries the write that stored it (CHANGE_COLUMNS in schema.ts): its version and
 * kind, `add` (POST /ingest), `replace` (PUT /invoices/{no}, a batch load) or `delete` (a tombstone: the
 * last values of a line a replace or DELETE removed). The stores only append; the rule reads them. Within
 * one invoice on one day:
 * 1. each line_id shows its newest row (highest version; a tombstone wins a tie);
 * 2. a tombstone hides its line;
 * 3. the newest replace or delete of the invoice is its floor: rows older than the floor are hidden.
 *
 * The result depends only on the set of rows, never on their order or on copies, which is what makes
 * at-least-once delivery safe: a change delivered late or twice cannot undo a newer one. The same rule is
 * written three times, because three engines run it, and tests hold them equal: here (compaction), in
 * glue/views/invoice_lines.sql (Athena, DuckDB) and in warehouse/staging/invoice_lines.sql (Redshift,
 * PostgreSQL).
 *
 * "On one day" because the lake is partitioned by the invoice's day and the rule must run inside a
 * partition to keep partition pruning. A replace that moves an invoice to another day still hides the old
 * day's lines: the stream path writes a tombstone for each line it removes. A batch load cannot (it does
 * not read the stores), so a batch that changes an invoice's date leaves the old day's lines (README says so).
 */
import { CHANGE_KINDS, type ChangeKind, type CleanLine, type StoredLine } from './schema.js';

/**
 * A version's sequence bits: a version is `milliseconds since 1970 x 4096 + sequence`. 2^53 / 4096 ms is
 * year 70,000, so every version is an exact JavaScript number and a BIGINT everywhere.
 */
export const VERSION_SEQUENCE_SPAN = 4096;

/** The version of a row stored before versions existed. */
export const UNVERSIONED = 0;

/**
 * Versions for one process, from a clock: each greater than the last and than `ms x 4096`, so they grow
 * with time and never repeat here. Two processes may give the same version in the same millisecond; the
 * sequence starts at a random offset to make that rare, and the transformer decides a tie (the change it
 * applies first wins; docs/corrections.md).
 *
 * @example const clock = versionClock(() => Date.parse('2026-12-03T00:00:00Z'), 0); clock() < clock()
 */
export function versionClock(
  now: () => number,
  offset: number = Math.floor(Math.random() * VERSION_SEQUENCE_SPAN),
): () => number {
  let last = 0;
  return () => {
    const candidate = now() * VERSION_SEQUENCE_SPAN + (offset % VERSION_SEQUENCE_SPAN);
    last = Math.max(candidate, last + 1);
    return last;
  };
}

/**
 * The version of a write made at `ms` that must be the same on every retry: a batch load's, from the time
 * it was planned, so each of its ranges and every retry of one writes one version.
 */
export function versionAt(ms: number): number {
  return ms * VERSION_SEQUENCE_SPAN;
}

/** The time a version was assigned, to the millisecond. */
export function versionTime(version: number): Date {
  return new Date(Math.floor(version / VERSION_SEQUENCE_SPAN));
}

/** A line as stored by a write of `kind` at `version`; version 0 (before versions) is stored as null. */
export function storedAs(line: CleanLine, version: number, kind: ChangeKind): StoredLine {
  return { ...line, change_version: version === UNVERSIONED ? null : version, change_kind: kind };
}

/** A row's version, with a missing one read as UNVERSIONED. */
export function rowVersion(row: StoredLine): number {
  return row.change_version ?? UNVERSIONED;
}

/** A row's kind, with a missing one read as `add`. */
export function rowKind(row: StoredLine): ChangeKind {
  return row.change_kind ?? CHANGE_KINDS.add;
}

/** Whether a kind sets its invoice's floor. */
function setsFloor(kind: ChangeKind): boolean {
  return kind === CHANGE_KINDS.replace || kind === CHANGE_KINDS.delete;
}

/** Whether `a` is newer than `b` under rule 1: a higher version, or a tombstone at the same one. */
function newer(a: StoredLine, b: StoredLine): boolean {
  const va = rowVersion(a);
  const vb = rowVersion(b);
  if (va !== vb) return va > vb;
  return rowKind(a) === CHANGE_KINDS.delete && rowKind(b) !== CHANGE_KINDS.delete;
}

/** What the rule makes of one day's rows. */
export interface SettledRows {
  /** What an analyst sees: one row per visible line_id. */
  visible: StoredLine[];
  /**
   * What compaction keeps: the visible rows, the tombstones of the newest change, and the rows that set
   * each invoice's floor. Read again, they give the same `visible`, and a late copy of an older write
   * stays hidden. Everything else (copies, superseded rows, rows under a floor) is gone.
   */
  kept: StoredLine[];
}

/**
 * Applies the rule to the rows of one day partition (rows of several days are settled per day by the
 * caller). Order of the output: the order rows first appear in the input.
 */
export function settleRows(rows: readonly StoredLine[]): SettledRows {
  const floors = new Map<string, number>();
  const newest = new Map<string, StoredLine>();
  for (const row of rows) {
    if (setsFloor(rowKind(row))) {
      const floor = floors.get(row.invoice_no);
      if (floor === undefined || rowVersion(row) > floor) floors.set(row.invoice_no, rowVersion(row));
    }
    const seen = newest.get(row.line_id);
    if (!seen || newer(row, seen)) newest.set(row.line_id, row);
  }
  const floorOf = (row: StoredLine) => floors.get(row.invoice_no) ?? UNVERSIONED;
  const visible: StoredLine[] = [];
  const kept: StoredLine[] = [];
  const keptRows = new Set<StoredLine>();
  const keep = (row: StoredLine) => {
    if (!keptRows.has(row)) {
      keptRows.add(row);
      kept.push(row);
    }
  };
  // The floor's own rows, one per (line, kind), so a floor survives when a later add supersedes its line.
  const floorRows = new Set<string>();
  for (const row of rows) {
    const top = newest.get(row.line_id)!;
    const atFloor = rowVersion(row) >= floorOf(row);
    if (row === top) {
      // The same object twice in the input is one row.
      if (!atFloor || keptRows.has(row)) continue;
      keep(row);
      if (rowKind(row) !== CHANGE_KINDS.delete) visible.push(row);
    } else if (setsFloor(rowKind(row)) && rowVersion(row) === floorOf(row)) {
      const key = `${row.line_id}\u0000${rowKind(row)}`;
      if (!floorRows.has(key) && !(top !== row && sameWrite(top, row))) {
        floorRows.add(key);
        keep(row);
      }
    }
  }
  return { visible, kept };
}

/** Two copies of one write of one line. */
function sameWrite(a: StoredLine, b: StoredLine): boolean {
  return a.line_id === b.line_id && rowVersion(a) === rowVersion(b) && rowKind(a) === rowKind(b);
}
