/**
 * The marts on the local warehouse and their Athena views on the local lake, over generated data: both
 * engines agree on every row, duplicates delivered twice change nothing, a refresh is idempotent, and the
 * declared column types hold on both engines. The same checks run on the real data in
 * marts-real-data.test.ts; this file runs everywhere, in seconds.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { LAKE_RAW_TABLE, MARTS, type Mart } from '../../src/analytics/models.js';
import { VIEW_COLUMN_TYPES, VIEW_COLUMNS } from '../../src/analytics/view-columns.js';
import { main } from '../../src/cli/main.js';
import { generateCsv } from '../../src/core/generate.js';
import { type CleanLine, COLUMN_NAMES } from '../../src/core/schema.js';
import type { LocalLake } from '../../src/local/lake.js';
import {
  type AnalyticsBench,
  cleanLines,
  lakeRows,
  openLakeWithViews,
  refresh,
  rowDifferences,
  snapshotLake,
  snapshotWarehouse,
  startAnalyticsBench,
  warehouseRows,
  writeLake,
} from '../helpers/analytics.js';
import { freePort } from '../helpers/load-targets.js';

jest.setTimeout(120_000);

let bench: AnalyticsBench;
let lines: CleanLine[];
let lake: LocalLake;

beforeAll(async () => {
  bench = await startAnalyticsBench();
  const csv = join(bench.dir, 'generated.csv');
  await writeFile(csv, `${[...generateCsv({ rows: 20_000, seed: 11 })].join('\n')}\n`);
  lines = await cleanLines(csv);
  await bench.warehouse.mergeLines(lines);
  await writeLake(bench.lakeDir, lines);
  await refresh(bench.warehouse);
  lake = await openLakeWithViews(bench.lakeGlob);
});

afterAll(async () => {
  lake?.close();
  await bench?.stop();
});

async function count(table: string): Promise<number> {
  const [row] = await bench.warehouse.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row!.n);
}

describe('marts and lake views over generated data', () => {
  it('stages one row per distinct line', async () => {
    // Prepare: the bench loaded the cleaned lines once.
    // Act
    const staged = await count('staging.invoice_lines');
    // Assess
    expect(staged).toBe(new Set(lines.map((l) => l.line_id)).size);
    expect(staged).toBeGreaterThan(19_000);
  });

  it.each(MARTS)('%s: the warehouse mart and the lake view hold the same rows', async (mart: Mart) => {
    // Act
    const [inWarehouse, inLake] = [await warehouseRows(bench.warehouse, mart), await lakeRows(lake, mart)];
    // Assess
    expect(inWarehouse.length).toBeGreaterThan(0);
    expect(rowDifferences(inWarehouse, inLake)).toEqual({ onlyLeft: [], onlyRight: [] });
    expect(inLake).toHaveLength(inWarehouse.length);
  });

  it.each(MARTS)('%s: both engines have the declared column names and types', async (mart: Mart) => {
    // Prepare
    const declared = VIEW_COLUMNS[mart];
    // Act
    const pg = await bench.warehouse.query<{ column_name: string; data_type: string; p: number; s: number }>(
      `SELECT column_name, data_type, numeric_precision AS p, numeric_scale AS s
       FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = $1
       ORDER BY ordinal_position`,
      [mart],
    );
    const duck = await lake.query(`DESCRIBE ${mart}`);
    // Assess
    expect(
      pg.map((c) => [c.column_name, c.data_type === 'numeric' ? `numeric(${c.p},${c.s})` : c.data_type]),
    ).toEqual(declared.map(([name, type]) => [name, VIEW_COLUMN_TYPES[type].postgres]));
    expect(duck.map((c) => [c['column_name'], c['column_type']])).toEqual(
      declared.map(([name, type]) => [name, VIEW_COLUMN_TYPES[type].duckdb]),
    );
  });

  it('stages lines typed exactly as the raw table (the record contract), without its change columns', async () => {
    // Act
    const columns = async (schema: string) =>
      bench.warehouse.query(
        `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'invoice_lines'
         ORDER BY ordinal_position`,
        [schema],
      );
    const staging = await columns('staging');
    // Assess
    expect(staging.map((c) => c['column_name'])).toEqual(COLUMN_NAMES);
    expect(staging).toEqual((await columns('raw')).slice(0, COLUMN_NAMES.length));
  });

  it('rebuilds a mart an older release made with other columns, to the same rows as a new one', async () => {
    // Prepare: marts.cancellations as it was before product_lines.
    const before = await snapshotWarehouse(bench.warehouse);
    await bench.warehouse.query(
      'DROP TABLE marts.cancellations; CREATE TABLE marts.cancellations (month DATE NOT NULL, country VARCHAR(256) NOT NULL, cancelled_lines BIGINT NOT NULL, cancelled_value DECIMAL(18,3) NOT NULL, cancellation_rate DOUBLE PRECISION NOT NULL)',
    );
    // Act
    const result = await refresh(bench.warehouse);
    // Assess
    expect(result.rebuilt).toEqual(['cancellations']);
    expect(await snapshotWarehouse(bench.warehouse)).toEqual(before);
    expect((await refresh(bench.warehouse)).rebuilt).toEqual([]);
  });

  it('changes no mart when a refresh runs again', async () => {
    // Prepare
    const before = await snapshotWarehouse(bench.warehouse);
    // Act
    const result = await refresh(bench.warehouse);
    // Assess
    expect(result.statements).toBeGreaterThan(20);
    expect(await snapshotWarehouse(bench.warehouse)).toEqual(before);
  });

  it('changes no mart and no view when lines are delivered twice', async () => {
    // Prepare: every tenth line again, into raw (append-only, as Firehose would) and as a second lake file.
    const before = await snapshotWarehouse(bench.warehouse);
    const lakeBefore = await snapshotLake(lake);
    const again = lines.filter((_, i) => i % 10 === 0);
    const rawBefore = await count('raw.invoice_lines');
    await bench.warehouse.copyLines('raw.invoice_lines', again);
    await writeLake(bench.lakeDir, again, 'part-duplicate.parquet');
    // Act
    await refresh(bench.warehouse);
    // Assess
    expect(await count('raw.invoice_lines')).toBe(rawBefore + again.length);
    expect(await count('staging.invoice_lines')).toBe(new Set(lines.map((l) => l.line_id)).size);
    expect(await snapshotWarehouse(bench.warehouse)).toEqual(before);
    const [raw] = await lake.query(`SELECT COUNT(*) AS n FROM ${LAKE_RAW_TABLE}`);
    expect(Number(raw!['n'])).toBe(lines.length + again.length);
    // What an analyst counts: each line once, before any compaction.
    const [shown] = await lake.query(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT line_id) AS distinct_ids, SUM(line_total) AS total FROM invoice_lines',
    );
    expect(Number(shown!['n'])).toBe(lines.length);
    expect(Number(shown!['distinct_ids'])).toBe(lines.length);
    const [expected] = await lake.query(
      `SELECT SUM(line_total) AS total FROM (SELECT DISTINCT line_id, line_total FROM ${LAKE_RAW_TABLE}) d`,
    );
    expect(shown!['total']).toBe(expected!['total']);
    expect(await snapshotLake(lake)).toEqual(lakeBefore);
  });

  it('stages each line once when two refreshes run at the same time', async () => {
    // Prepare: lines raw holds and no refresh has applied, which both refreshes would otherwise insert.
    const before = await snapshotWarehouse(bench.warehouse);
    await bench.warehouse.query(
      `DELETE FROM staging.stored_rows WHERE line_id IN (SELECT line_id FROM staging.invoice_lines WHERE country = 'United Kingdom');
       DELETE FROM staging.invoice_lines WHERE country = 'United Kingdom'`,
    );
    // Act
    await Promise.all([refresh(bench.warehouse), refresh(bench.warehouse)]);
    // Assess
    const [dupes] = await bench.warehouse.query<{ n: string }>(
      'SELECT COUNT(*) - COUNT(DISTINCT line_id) AS n FROM staging.invoice_lines',
    );
    expect(Number(dupes!.n)).toBe(0);
    expect(await count('staging.invoice_lines')).toBe(new Set(lines.map((l) => l.line_id)).size);
    expect(await snapshotWarehouse(bench.warehouse)).toEqual(before);
  });

  it('rebuilds staging from all of raw with --full, to the same marts', async () => {
    // Prepare
    const before = await snapshotWarehouse(bench.warehouse);
    await bench.warehouse.query("DELETE FROM staging.invoice_lines WHERE country = 'United Kingdom'");
    // Act
    const result = await refresh(bench.warehouse, true);
    // Assess
    expect(result.full).toBe(true);
    expect(await count('staging.invoice_lines')).toBe(new Set(lines.map((l) => l.line_id)).size);
    expect(await snapshotWarehouse(bench.warehouse)).toEqual(before);
  });
});

describe('ecomflow refresh', () => {
  let out: string[];
  let err: string[];

  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  });

  afterEach(() => jest.restoreAllMocks());

  it('refreshes the warehouse named by --url and prints each mart with its row count', async () => {
    // Act
    const code = await main(['refresh', '--url', bench.warehouseUrl]);
    // Assess
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toMatch(
      /^refreshed postgres:\/\/ecomflow@127\.0\.0\.1:\d+\/ecomflow \(from --url\): \d+ statements/,
    );
    expect(out[0]).not.toContain(':ecomflow@');
    const [row] = await bench.warehouse.query<{ n: string }>('SELECT COUNT(*) AS n FROM marts.daily_revenue');
    expect(out).toContainEqual(
      expect.stringMatching(new RegExp(`marts\\.daily_revenue\\s+${row!.n}\\s+rows`)),
    );
  });

  it('exits 1 with the address when no warehouse answers', async () => {
    // Prepare
    const port = await freePort();
    // Act
    const code = await main(['refresh', '--url', `postgres://ecomflow:ecomflow@127.0.0.1:${port}/ecomflow`]);
    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toContain(
      `no warehouse answers at postgres://ecomflow@127.0.0.1:${port}/ecomflow`,
    );
  });
});
