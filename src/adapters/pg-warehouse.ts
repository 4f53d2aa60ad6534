import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  CHANGE_COLUMNS,
  createLineTableSql,
  STORED_COLUMN_NAMES,
  type StoredLine,
  sqlColumnDefinitions,
} from '../core/schema.js';

/** The PostgreSQL type OIDs whose values node-pg would turn into a JavaScript Date. */
export const PG_TYPE_OIDS = { date: 1082, timestamp: 1114 } as const;

/**
 * A TIMESTAMP (without time zone) as ISO 8601 text in UTC, its fraction as stored; a value in another form
 * (`infinity`, a BC date, a DateStyle other than ISO) as PostgreSQL sent it.
 * @example timestampText('2010-12-01 08:26:00') // '2010-12-01T08:26:00Z'
 */
export function timestampText(text: string): string {
  const match = /^(\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(text);
  return match ? `${match[1]}T${match[2]}Z` : text;
}

/**
 * The type parsers of the warehouse's pool: DATE as stored (`YYYY-MM-DD`), TIMESTAMP as UTC text. node-pg's
 * defaults read both as local time, so a user's TZ would shift every value printed (the stored data is
 * right: the record contract's times are UTC). Scoped to this pool, not set on node-pg's global registry.
 */
const WAREHOUSE_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === PG_TYPE_OIDS.date) return (text: string) => text;
      if (oid === PG_TYPE_OIDS.timestamp) return timestampText;
    }
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * The warehouse (Redshift on AWS, the embedded PostgreSQL locally) over the PostgreSQL wire protocol.
 * The SQL here is the common dialect of both engines: no `ON CONFLICT`, no `DISTINCT ON`.
 */
export class PgWarehouse {
  private readonly pool: pg.Pool;

  constructor(connectionString: string) {
    this.pool = new pg.Pool({ connectionString, max: 4, types: WAREHOUSE_TYPES });
    // An idle connection the server closes (a restart, a shutdown) is replaced on the next query; without a
    // listener, the pool's 'error' event would end the process.
    this.pool.on('error', () => {});
  }

  /** Runs SQL (one statement, or several without parameters) and returns the rows of the last. */
  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<T[]> {
    const result = await this.pool.query(sql, params);
    const last = Array.isArray(result) ? result.at(-1) : result;
    return (last?.rows ?? []) as T[];
  }

  /** Creates the layered schemas and the raw table (from the record contract) if they are missing. */
  async ensureRaw(): Promise<void> {
    await this.query(`CREATE SCHEMA IF NOT EXISTS "raw"; CREATE SCHEMA IF NOT EXISTS staging; CREATE SCHEMA IF NOT EXISTS marts;
      ${createLineTableSql(RAW_TABLE)};
      ${addChangeColumnsSql(RAW_TABLE)}`);
  }

  /**
   * Bulk-loads lines into `table` with `COPY ... FROM STDIN (FORMAT csv)`: one round trip per load, never a
   * row-by-row INSERT. Returns the rows copied.
   */
  async copyLines(table: string, lines: Iterable<StoredLine> | AsyncIterable<StoredLine>): Promise<number> {
    const client = await this.pool.connect();
    let rows = 0;
    try {
      const sink = client.query(
        copyFrom(`COPY ${table} (${STORED_COLUMN_NAMES.join(', ')}) FROM STDIN (FORMAT csv)`),
      );
      const source = Readable.from(
        (async function* () {
          let buffer = '';
          for await (const line of lines) {
            buffer += toCsvRow(line);
            rows++;
            if (buffer.length > 1 << 16) {
              yield buffer;
              buffer = '';
            }
          }
          if (buffer) yield buffer;
        })(),
      );
      await pipeline(source, sink);
      return rows;
    } finally {
      client.release();
    }
  }

  /**
   * Opens a COPY into `table` that lines are pushed into as they are cleaned, for a single-pass load.
   * `write` returns false when the server is behind; `drain()` waits for it.
   */
  async startCopy(table: string): Promise<CopyWriter> {
    const client = await this.pool.connect();
    const stream = client.query(
      copyFrom(`COPY ${table} (${STORED_COLUMN_NAMES.join(', ')}) FROM STDIN (FORMAT csv)`),
    );
    let failure: Error | null = null;
    stream.on('error', (err: Error) => {
      failure ??= err;
    });
    let rows = 0;
    let buffer = '';
    const flush = () => {
      const ok = stream.write(buffer);
      buffer = '';
      return ok;
    };
    let released = false;
    const release = (err?: Error) => {
      if (!released) client.release(err);
      released = true;
    };
    return {
      write(line) {
        buffer += toCsvRow(line);
        rows++;
        return buffer.length < 1 << 16 || flush();
      },
      async drain() {
        if (failure) throw failure;
        if (stream.writableNeedDrain) await new Promise((resolve) => stream.once('drain', resolve));
      },
      async end() {
        if (buffer) flush();
        try {
          await new Promise<void>((resolve, reject) => {
            stream.once('finish', resolve);
            stream.once('error', reject);
            stream.end();
          });
          if (failure) throw failure;
          release();
          return rows;
        } catch (err) {
          release(err as Error);
          throw err;
        }
      },
      abort() {
        stream.destroy();
        release(new Error('copy aborted'));
      },
    };
  }

  /** Drops and recreates a load table with the contract's columns. */
  async createLoadTable(table: string): Promise<void> {
    await this.ensureRaw();
    await this.query(`DROP TABLE IF EXISTS ${table}; ${createLineTableSql(table)};`);
  }

  /**
   * Loads lines idempotently: COPY into a fresh load table, then insert into `raw.invoice_lines` only the
   * line ids it does not hold yet, in one transaction. Loading the same lines twice adds nothing.
   * Returns how many lines were new.
   */
  async mergeLines(
    lines: Iterable<StoredLine> | AsyncIterable<StoredLine>,
    loadTable = '"raw".invoice_lines_load',
  ): Promise<{ copied: number; inserted: number }> {
    await this.createLoadTable(loadTable);
    const copied = await this.copyLines(loadTable, lines);
    const inserted = await this.mergeLoadTable(loadTable);
    return { copied, inserted };
  }

  /** Moves the lines of a load table into raw, skipping ids already there, and drops the load table. */
  async mergeLoadTable(loadTable: string): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await client.query(mergeLoadTableSql(loadTable));
      await client.query(`DROP TABLE ${loadTable}`);
      await client.query('COMMIT');
      return result.rowCount ?? 0;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Runs parameterised statements in one transaction, on one connection: all of them commit, or none.
   * Returns each statement's row count.
   */
  async transaction(statements: readonly { sql: string; params?: unknown[] }[]): Promise<number[]> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const counts: number[] = [];
      for (const s of statements) counts.push((await client.query(s.sql, s.params)).rowCount ?? 0);
      await client.query('COMMIT');
      return counts;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * RAW is a reserved word in Redshift (a compression encoding), so the schema is always quoted; PostgreSQL
 * accepts the same spelling.
 */
export const RAW_SCHEMA = '"raw"';
export const RAW_TABLE = `${RAW_SCHEMA}.invoice_lines`;

/**
 * The merge both warehouses run after a bulk load (the embedded PostgreSQL here, Redshift through the Data
 * API in src/batch/aws/): insert into `raw.invoice_lines` one copy of each line of the load table whose
 * line_id raw does not hold yet. Running it twice inserts nothing the second time. Common SQL of both
 * engines: no `ON CONFLICT`, no `DISTINCT ON`.
 * @example mergeLoadTableSql('"raw".load_0123456789abcdef')
 */
export function mergeLoadTableSql(loadTable: string, rawTable: string = RAW_TABLE): string {
  // A row is the same write when its line, version and kind are: a replace of lines raw already holds
  // from an earlier write is a new row, which is what makes it replace them (src/core/changes.ts).
  return `INSERT INTO ${rawTable} (${STORED_COLUMN_NAMES.join(', ')})
SELECT ${STORED_COLUMN_NAMES.map((c) => `l.${c}`).join(', ')}
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY line_id, change_version, change_kind ORDER BY line_id) AS copy_no FROM ${loadTable}) l
WHERE l.copy_no = 1
  AND NOT EXISTS (
    SELECT 1 FROM ${rawTable} r
    WHERE r.line_id = l.line_id
      AND COALESCE(r.change_version, 0) = COALESCE(l.change_version, 0)
      AND COALESCE(r.change_kind, 'add') = COALESCE(l.change_kind, 'add')
  )`;
}

/**
 * Adds the change columns to a line table created before they existed. PostgreSQL only (Redshift has no
 * `ADD COLUMN IF NOT EXISTS`; docs/deploy.md gives its one-time ALTER).
 */
export function addChangeColumnsSql(table: string): string {
  const definitions = sqlColumnDefinitions().slice(-CHANGE_COLUMNS.length);
  return definitions.map((d) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${d};`).join('\n');
}

/** A COPY under way; see `PgWarehouse.startCopy`. */
export interface CopyWriter {
  write(line: StoredLine): boolean;
  drain(): Promise<void>;
  /** Ends the COPY; resolves to the rows sent. */
  end(): Promise<number>;
  abort(): void;
}

function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return `"${value.replace(/"/g, '""')}"`;
  return String(value);
}

/** One CSV row for COPY: strings always quoted (so '' stays an empty string), null as an empty field. */
function toCsvRow(line: StoredLine): string {
  let row = '';
  for (let i = 0; i < STORED_COLUMN_NAMES.length; i++) {
    if (i > 0) row += ',';
    row += csvValue(line[STORED_COLUMN_NAMES[i]!]);
  }
  return `${row}\n`;
}
