import { DuckDBInstance } from '@duckdb/node-api';
import { createLakeViews } from '../analytics/lake-views.js';
import { LAKE_RAW_TABLE, LINE_TABLE_VIEW, loadLakeView } from '../analytics/models.js';
import { LINE_COLUMNS } from '../core/schema.js';

/**
 * DuckDB standing in for Athena over the local lake: `invoice_lines_raw` with the contract's columns, over
 * the Parquet objects in s3rver's storage (hive partitions year=/month=/day=, as on S3), and the view
 * `invoice_lines` over it that shows each line once (glue/views/invoice_lines.sql, as on Athena).
 */
export class LocalLake {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: Awaited<ReturnType<DuckDBInstance['connect']>>,
  ) {}

  static async open(lakeGlob: string): Promise<LocalLake> {
    const lake = await LocalLake.openRaw(lakeGlob);
    try {
      await createLakeViews(lake, [await loadLakeView(LINE_TABLE_VIEW)]);
    } catch (err) {
      lake.close();
      throw err;
    }
    return lake;
  }

  /** Only the physical table, as compaction and the tests of duplicates read it. */
  static async openRaw(lakeGlob: string): Promise<LocalLake> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const lake = new LocalLake(instance, connection);
    // Timestamps in the lake are UTC; so are all date functions here, as in Athena.
    await connection.run("SET TimeZone = 'UTC'");
    const columns = LINE_COLUMNS.map((c) =>
      c.type === 'timestamp' ? `CAST(${c.name} AS TIMESTAMP) AS ${c.name}` : c.name,
    );
    // The partition columns, as the Glue table has them: zero-padded strings ('2011', '01', '09'), so the
    // same WHERE year = '2011' AND month = '01' runs here and on Athena (no autocast to integers).
    columns.push(...PARTITION_COLUMNS);
    try {
      await connection.run(
        `CREATE VIEW ${LAKE_RAW_TABLE} AS SELECT ${columns.join(', ')} FROM read_parquet('${lakeGlob.replace(/'/g, "''")}', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`,
      );
      await connection.run(`SELECT 1 FROM ${LAKE_RAW_TABLE} LIMIT 0`);
    } catch (err) {
      if (!/No files found/i.test((err as Error).message)) throw err;
      // An empty lake still has the table, with no rows.
      await connection.run(`DROP VIEW IF EXISTS ${LAKE_RAW_TABLE}`);
      await connection.run(
        `CREATE TABLE ${LAKE_RAW_TABLE} (${[
          ...LINE_COLUMNS.map((c) => `${c.name} ${duckType(c.type)}`),
          ...PARTITION_COLUMNS.map((p) => `${p} VARCHAR`),
        ].join(', ')})`,
      );
    }
    return lake;
  }

  /** Runs SQL and returns JSON-safe row objects (big integers and decimals as text). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  /** Runs SQL for its effect, e.g. `CREATE VIEW`. */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

const PARTITION_COLUMNS = ['year', 'month', 'day'];

function duckType(type: (typeof LINE_COLUMNS)[number]['type']): string {
  return {
    string: 'VARCHAR',
    int32: 'INTEGER',
    timestamp: 'TIMESTAMP',
    decimal: 'DECIMAL(18,3)',
    boolean: 'BOOLEAN',
  }[type];
}
