import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgWarehouse } from '../../src/adapters/pg-warehouse.js';
import { createLakeViews } from '../../src/analytics/lake-views.js';
import { type LakeView, MARTS, type Mart } from '../../src/analytics/models.js';
import { pgRunner } from '../../src/analytics/pg-runner.js';
import { refreshWarehouse } from '../../src/analytics/refresh.js';
import { VIEW_COLUMNS } from '../../src/analytics/view-columns.js';
import { cleanFile } from '../../src/batch/source.js';
import type { CleanLine, StoredLine } from '../../src/core/schema.js';
import { ParquetLineWriter } from '../../src/lake/parquet.js';
import { lakePartition } from '../../src/lake/partition.js';
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';
import { LocalLake } from '../../src/local/lake.js';
import { freePort } from './load-targets.js';

/** An embedded PostgreSQL in a temporary folder, and a lake folder beside it. */
export interface AnalyticsBench {
  dir: string;
  warehouse: PgWarehouse;
  warehouseUrl: string;
  /** Root of the lake: `<lakeDir>/invoice_lines/year=/month=/day=/*.parquet`. */
  lakeDir: string;
  lakeGlob: string;
  stop(): Promise<void>;
}

export async function startAnalyticsBench(): Promise<AnalyticsBench> {
  const dir = await mkdtemp(join(tmpdir(), 'ecomflow-analytics-'));
  // mkdtemp makes the folder private (0700); as root, PostgreSQL runs as `postgres` and must traverse it.
  await chmod(dir, 0o755);
  const local = await startEmbeddedPostgres({ dataDir: join(dir, 'warehouse'), port: await freePort() });
  const warehouse = new PgWarehouse(local.connectionString);
  const lakeDir = join(dir, 'lake');
  return {
    dir,
    warehouse,
    warehouseUrl: local.connectionString,
    lakeDir,
    lakeGlob: join(lakeDir, 'invoice_lines', '**', '*.parquet'),
    async stop() {
      await warehouse.close();
      await local.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The clean lines of a CSV file, deduplicated as the batch path does. */
export async function cleanLines(path: string): Promise<CleanLine[]> {
  const lines: CleanLine[] = [];
  await cleanFile(path, { line: (l) => lines.push(l), reject: () => undefined }, { dedupe: true });
  return lines;
}

/** The lake partition of a line, as Firehose and the batch path name it: `year=2011/month=01/day=09`. */
export function partitionOf(line: StoredLine): string {
  return lakePartition(line.invoice_date).slice(0, -1);
}

/** Writes lines into the lake, one Parquet file named `file` per partition. Returns the files written. */
export async function writeLake(lakeDir: string, lines: readonly StoredLine[], file = 'part-0.parquet') {
  const byPartition = new Map<string, StoredLine[]>();
  for (const line of lines) {
    const key = partitionOf(line);
    const bucket = byPartition.get(key) ?? [];
    if (bucket.length === 0) byPartition.set(key, bucket);
    bucket.push(line);
  }
  for (const [partition, bucket] of byPartition) {
    const writer = ParquetLineWriter.inMemory();
    for (const line of bucket) writer.append(line);
    const folder = join(lakeDir, 'invoice_lines', partition);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, file), writer.close());
  }
  return byPartition.size;
}

/** Runs `ecomflow refresh`'s code path on the bench's warehouse. */
export function refresh(warehouse: PgWarehouse, full = false) {
  return refreshWarehouse(pgRunner(warehouse, 'test warehouse'), { full });
}

/** The local lake with every Athena view created on it. */
export async function openLakeWithViews(lakeGlob: string): Promise<LocalLake> {
  const lake = await LocalLake.open(lakeGlob);
  await createLakeViews(lake);
  return lake;
}

/**
 * Each column as text both engines print alike: decimals with their three places, dates as YYYY-MM-DD,
 * timestamps as `YYYY-MM-DD HH:MM:SS`. Doubles stay numbers (the engines print them differently, but
 * both hand JavaScript the same IEEE value).
 */
function selectList(view: LakeView): string {
  return VIEW_COLUMNS[view]
    .map(([name, type]) => (type === 'double' ? name : `CAST(${name} AS VARCHAR) AS ${name}`))
    .join(', ');
}

function rowText(view: LakeView, row: Record<string, unknown>): string {
  return VIEW_COLUMNS[view]
    .map(([name]) => {
      const value = row[name];
      return value === null || value === undefined ? '<null>' : String(value);
    })
    .join(' | ');
}

/** Every row of a mart in the warehouse, as sorted text lines. */
export async function warehouseRows(warehouse: PgWarehouse, mart: Mart): Promise<string[]> {
  const rows = await warehouse.query(`SELECT ${selectList(mart)} FROM marts.${mart}`);
  return rows.map((r) => rowText(mart, r)).sort();
}

/** Every row of a view on the lake, as sorted text lines. */
export async function lakeRows(lake: LocalLake, view: LakeView): Promise<string[]> {
  const rows = await lake.query(`SELECT ${selectList(view)} FROM ${view}`);
  return rows.map((r) => rowText(view, r)).sort();
}

/** Every mart of the warehouse. */
export async function snapshotWarehouse(warehouse: PgWarehouse): Promise<Record<Mart, string[]>> {
  const out = {} as Record<Mart, string[]>;
  for (const mart of MARTS) out[mart] = await warehouseRows(warehouse, mart);
  return out;
}

/** Every mart view of the lake. */
export async function snapshotLake(lake: LocalLake): Promise<Record<Mart, string[]>> {
  const out = {} as Record<Mart, string[]>;
  for (const mart of MARTS) out[mart] = await lakeRows(lake, mart);
  return out;
}

/**
 * The rows only one side has (at most `limit` of each), so a failing comparison prints what differs
 * rather than two arrays of thousands of lines.
 */
export function rowDifferences(
  a: readonly string[],
  b: readonly string[],
  limit = 5,
): { onlyLeft: string[]; onlyRight: string[] } {
  const count = (rows: readonly string[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(r, (m.get(r) ?? 0) + 1);
    return m;
  };
  const left = count(a);
  const right = count(b);
  const only = (x: Map<string, number>, y: Map<string, number>) =>
    [...x].filter(([row, n]) => (y.get(row) ?? 0) !== n).map(([row]) => row);
  return { onlyLeft: only(left, right).slice(0, limit), onlyRight: only(right, left).slice(0, limit) };
}

/** Thousandths as an integer: exact sums of line totals in JavaScript. */
export function milli(value: number): number {
  return Math.round(value * 1000);
}

/** An integer of thousandths as the warehouse prints a DECIMAL(18,3): `-12.500`. */
export function decimalText(millis: number): string {
  const sign = millis < 0 ? '-' : '';
  const abs = Math.abs(millis);
  return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}

/**
 * A named query's `?` parameters replaced by SQL literals, in order (the local lake takes plain SQL; Athena
 * binds them itself). Strings are quoted; numbers are written as they are.
 */
export function bindParameters(sql: string, values: readonly (string | number)[]): string {
  let next = 0;
  const bound = sql.replace(/\?/g, () => {
    if (next >= values.length) throw new Error(`more ? than the ${values.length} values given`);
    const value = values[next++]!;
    return typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`;
  });
  if (next !== values.length) throw new Error(`${values.length} values for ${next} parameters`);
  return bound;
}
