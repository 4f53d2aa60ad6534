/**
 * The rule of src/core/changes.ts, run by the engines: the lake's invoice_lines view (DuckDB, as Athena
 * runs it) and the warehouse's staging (embedded PostgreSQL, as Redshift runs it) show exactly the lines
 * settleRows shows, for a history of adds, replaces, tombstones, stale writes and copies over two
 * invoices and two days; staging reaches the same lines when the history arrives in parts, refreshed in
 * between; and what compaction keeps shows the same lines again.
 */
import { jest } from '@jest/globals';
import { RAW_TABLE } from '../../src/adapters/pg-warehouse.js';
import { settleRows } from '../../src/core/changes.js';
import { CHANGE_KINDS, type ChangeKind, type StoredLine } from '../../src/core/schema.js';
import { settledLines } from '../../src/lake/compaction.js';
import type { LocalLake } from '../../src/local/lake.js';
import {
  type AnalyticsBench,
  openLakeWithViews,
  refresh,
  startAnalyticsBench,
  writeLake,
} from '../helpers/analytics.js';
import { aCleanLine } from '../helpers/lines.js';

jest.setTimeout(120_000);

const DAY_1 = '2010-12-01T08:26:00Z';
const DAY_2 = '2010-12-02T09:00:00Z';

function row(
  id: string,
  version: number | null,
  kind: ChangeKind | null,
  invoice: string,
  date = DAY_1,
): StoredLine {
  return {
    ...aCleanLine({
      line_id: id.padEnd(32, '0'),
      invoice_no: invoice,
      invoice_date: date,
      quantity: id.length,
    }),
    change_version: version,
    change_kind: kind,
  };
}
const { add, replace, delete: tombstone } = CHANGE_KINDS;

/** Two invoices over two days: posted, corrected, one deleted, with late and repeated deliveries. */
const HISTORY: StoredLine[] = [
  row('a1', null, null, 'I1'),
  row('a2', 10, add, 'I1'),
  row('a3', 10, add, 'I1'),
  row('a2', 20, replace, 'I1'),
  row('a4', 20, replace, 'I1'),
  row('a1', 20, tombstone, 'I1'),
  row('a3', 20, tombstone, 'I1'),
  row('a3', 10, add, 'I1'), // a late copy of the first post
  row('a5', 30, add, 'I1'),
  row('b1', 10, add, 'I2'),
  row('b2', 10, add, 'I2', DAY_2),
  row('b1', 40, tombstone, 'I2'),
  row('b2', 40, tombstone, 'I2', DAY_2),
  row('b3', 50, add, 'I2', DAY_2),
  row('b9', 15, replace, 'I2', DAY_2), // a stale replace, older than the delete
  row('a2', 20, replace, 'I1'), // a copy
];

const ids = (rows: readonly Record<string, unknown>[] | readonly StoredLine[]) =>
  rows.map((r) => String(r.line_id)).sort();

/** What settleRows shows, day by day (the engines settle within a partition). */
function expected(rows: readonly StoredLine[]): string[] {
  const days = new Map<string, StoredLine[]>();
  for (const r of rows)
    days.set(r.invoice_date.slice(0, 10), [...(days.get(r.invoice_date.slice(0, 10)) ?? []), r]);
  return ids([...days.values()].flatMap((d) => settleRows(d).visible));
}

let bench: AnalyticsBench;
let lake: LocalLake | undefined;

beforeEach(async () => {
  bench = await startAnalyticsBench();
  await bench.warehouse.ensureRaw();
});

afterEach(async () => {
  lake?.close();
  lake = undefined;
  await bench.stop();
});

async function staged(): Promise<string[]> {
  return ids(await bench.warehouse.query<{ line_id: string }>('SELECT line_id FROM staging.invoice_lines'));
}

async function shownByLake(): Promise<string[]> {
  lake?.close();
  lake = await openLakeWithViews(bench.lakeGlob);
  return ids(await lake.query('SELECT line_id FROM invoice_lines'));
}

describe('the rule of changes on both engines', () => {
  it('shows in the lake view and staging exactly what settleRows shows', async () => {
    // Arrange
    const want = expected(HISTORY);
    expect(want).toEqual(
      ids([row('a2', 0, null, ''), row('a4', 0, null, ''), row('a5', 0, null, ''), row('b3', 0, null, '')]),
    );
    // Act
    await bench.warehouse.copyLines(RAW_TABLE, HISTORY);
    await refresh(bench.warehouse);
    await writeLake(bench.lakeDir, HISTORY.slice(0, 8), 'part-0.parquet');
    await writeLake(bench.lakeDir, HISTORY.slice(8), 'part-1.parquet');
    // Assess
    expect(await staged()).toEqual(want);
    expect(await shownByLake()).toEqual(want);
  });

  it('stages the same lines when the history arrives in three parts, refreshed after each', async () => {
    for (const [from, to] of [
      [0, 5],
      [5, 11],
      [11, HISTORY.length],
    ] as const) {
      // Act
      await bench.warehouse.copyLines(RAW_TABLE, HISTORY.slice(from, to));
      await refresh(bench.warehouse);
      // Assess: after each part, what the rows so far show.
      expect(await staged()).toEqual(expected(HISTORY.slice(0, to)));
    }
    // A refresh with nothing new changes nothing, and a full rebuild gives the same.
    await refresh(bench.warehouse);
    expect(await staged()).toEqual(expected(HISTORY));
    await refresh(bench.warehouse, true);
    expect(await staged()).toEqual(expected(HISTORY));
  });

  it('shows the same lines from what compaction keeps, and keeps a late older write hidden', async () => {
    // Arrange: compaction's output per day, then a late copy of an older write beside it.
    const day1 = settledLines([HISTORY.filter((r) => r.invoice_date === DAY_1)]);
    const day2 = settledLines([HISTORY.filter((r) => r.invoice_date === DAY_2)]);
    expect(day1.length + day2.length).toBeLessThan(HISTORY.length);
    await writeLake(bench.lakeDir, [...day1, ...day2], 'compacted.parquet');
    await writeLake(
      bench.lakeDir,
      [row('a3', 10, add, 'I1'), row('b2', 10, add, 'I2', DAY_2)],
      'late.parquet',
    );
    // Assess
    expect(await shownByLake()).toEqual(expected(HISTORY));
  });
});
