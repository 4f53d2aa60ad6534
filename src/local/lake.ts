import { DuckDBInstance } from '@duckdb/node-api';
import { createLakeViews } from '../analytics/lake-views.js';
import { LAKE_RAW_TABLE, LINE_TABLE_VIEW, loadLakeView } from '../analytics/models.js';
import { QUARANTINE_COLUMNS, QUARANTINE_PARTITIONS, QUARANTINE_TABLE } from '../core/quarantine.js';
import { type ColumnDef, type ColumnType, LINE_COLUMNS, STORED_COLUMNS } from '../core/schema.js';
import { LakeFileError } from '../lake/parquet-read.js';

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

  /**
   * @param quarantineGlob the quarantine's NDJSON objects in s3rver's storage; without one the table
   *   `quarantine` exists and is empty.
   */
  static async open(lakeGlob: string, quarantineGlob?: string): Promise<LocalLake> {
    const lake = await LocalLake.openRaw(lakeGlob);
    try {
      await createLakeViews(lake, [await loadLakeView(LINE_TABLE_VIEW)]);
      await lake.createQuarantine(quarantineGlob);
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
    const source = `read_parquet('${lakeGlob.replace(/'/g, "''")}', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`;
    try {
      try {
        await lake.createRawView(source, STORED_COLUMNS);
      } catch (err) {
        // Objects written before the change columns existed have only the line's: they read as version 0,
        // `add`, as on Athena, where a column missing from a Parquet file reads as null.
        if (!/Referenced column "change_/i.test((err as Error).message)) throw err;
        await lake.createRawView(source, LINE_COLUMNS);
      }
    } catch (err) {
      if (!/No files found/i.test((err as Error).message)) {
        // DuckDB names the object it cannot read (a torn upload, a file that is not Parquet): one line.
        lake.close();
        throw new LakeFileError(
          lakeGlob,
          `the lake cannot be read: ${(err as Error).message.split('\n')[0]}`,
          {
            cause: err,
          },
        );
      }
      // An empty lake still has the table, with no rows.
      await connection.run(`DROP VIEW IF EXISTS ${LAKE_RAW_TABLE}`);
      await connection.run(
        `CREATE TABLE ${LAKE_RAW_TABLE} (${[
          ...STORED_COLUMNS.map((c) => `${c.name} ${duckType(c.type)}`),
          ...PARTITION_COLUMNS.map((p) => `${p} VARCHAR`),
        ].join(', ')})`,
      );
    }
    return lake;
  }

  /**
   * The raw table as a view over `source`, with every stored column: those not in `present` as nulls.
   * Timestamps are cast to plain UTC timestamps; the partition columns are the Glue table's: zero-padded
   * strings ('2011', '01', '09'), so the same WHERE year = '2011' AND month = '01' runs here and on Athena
   * (no autocast to integers).
   */
  private async createRawView(source: string, present: readonly ColumnDef[]): Promise<void> {
    const names = new Set(present.map((c) => c.name));
    const columns = STORED_COLUMNS.map((c) => {
      if (!names.has(c.name)) return `CAST(NULL AS ${duckType(c.type)}) AS ${c.name}`;
      return c.type === 'timestamp' ? `CAST(${c.name} AS TIMESTAMP) AS ${c.name}` : c.name;
    });
    columns.push(...PARTITION_COLUMNS);
    await this.connection.run(
      `CREATE OR REPLACE VIEW ${LAKE_RAW_TABLE} AS SELECT ${columns.join(', ')} FROM ${source}`,
    );
    await this.connection.run(`SELECT 1 FROM ${LAKE_RAW_TABLE} LIMIT 0`);
  }

  /**
   * `quarantine`, with the Glue table's columns: the record's fields, then `source` and
   * `quarantine_date` read from the key (`quarantine/<source>/date=<day>/...`), as partition projection
   * reads them on Athena.
   */
  private async createQuarantine(glob: string | undefined): Promise<void> {
    const fields = QUARANTINE_COLUMNS.map((c) => `${c.name}: '${duckTypeOfGlue(c.glue)}'`).join(', ');
    const [source, day] = QUARANTINE_PARTITIONS;
    if (glob) {
      try {
        await this.connection.run(
          `CREATE VIEW ${QUARANTINE_TABLE} AS SELECT ${QUARANTINE_COLUMNS.map((c) => c.name).join(', ')},
             regexp_extract(filename, '/quarantine/([a-z]+)/date=', 1) AS ${source},
             regexp_extract(filename, '/date=([0-9]{4}-[0-9]{2}-[0-9]{2})/', 1) AS ${day}
           FROM read_json('${glob.replace(/'/g, "''")}', format = 'newline_delimited', filename = true,
             hive_partitioning = false, columns = {${fields}})`,
        );
        await this.connection.run(`SELECT 1 FROM ${QUARANTINE_TABLE} LIMIT 0`);
        return;
      } catch (err) {
        if (!/No files found/i.test((err as Error).message)) throw err;
        await this.connection.run(`DROP VIEW IF EXISTS ${QUARANTINE_TABLE}`);
      }
    }
    await this.connection.run(
      `CREATE TABLE ${QUARANTINE_TABLE} (${[
        ...QUARANTINE_COLUMNS.map((c) => `${c.name} ${duckTypeOfGlue(c.glue)}`),
        `${source} VARCHAR`,
        `${day} VARCHAR`,
      ].join(', ')})`,
    );
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

function duckType(type: ColumnType): string {
  return {
    int64: 'BIGINT',
    string: 'VARCHAR',
    int32: 'INTEGER',
    timestamp: 'TIMESTAMP',
    decimal: 'DECIMAL(18,3)',
    boolean: 'BOOLEAN',
  }[type];
}

/** A Glue (Hive) type as DuckDB spells it: `struct<a:string>` is `STRUCT(a VARCHAR)`. */
export function duckTypeOfGlue(glue: string): string {
  const struct = /^struct<(.+)>$/.exec(glue);
  if (struct) {
    const fields = struct[1]!.split(',').map((f) => {
      const [name, type] = f.split(':');
      return `${name} ${duckTypeOfGlue(type!)}`;
    });
    return `STRUCT(${fields.join(', ')})`;
  }
  const scalar: Record<string, string> = {
    string: 'VARCHAR',
    int: 'INTEGER',
    bigint: 'BIGINT',
    boolean: 'BOOLEAN',
  };
  const type = scalar[glue];
  if (!type) throw new Error(`no DuckDB type for the Glue type ${glue}`);
  return type;
}
