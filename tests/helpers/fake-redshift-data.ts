/**
 * A stand-in for the Redshift Data API, for tests: there is no Redshift emulator, so this fake answers
 * BatchExecuteStatement / DescribeStatement / CancelStatement and runs each batch as one transaction on a
 * real PostgreSQL (the embedded one that stands in for Redshift locally). Every statement runs as written,
 * except Redshift's `COPY <table> FROM 's3://…manifest' IAM_ROLE '…' FORMAT AS PARQUET MANIFEST`, which
 * PostgreSQL does not have: the fake reads the manifest and the Parquet parts it lists from S3 (s3rver),
 * checks what Redshift checks (mandatory entries, `meta.content_length` equal to each object's size), and
 * inserts the rows. Faults can be injected per statement.
 *
 * It also answers ExecuteStatement (with named parameters, `:name`, each value text that PostgreSQL
 * converts as Redshift does) and GetStatementResult, and keeps sessions: a call with
 * SessionKeepAliveSeconds opens one (a connection kept open), a call with SessionId runs on it and names
 * nothing else, as the Data API's session calls do; a temporary table lives as long as its session.
 */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type Field,
  GetStatementResultCommand,
  type GetStatementResultResponse,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import pg from 'pg';
import { STORED_COLUMN_NAMES } from '../../src/core/schema.js';

export interface FakeRedshiftData {
  client: RedshiftDataClient;
  /** Every batch received, in order, with the parameters it came with. */
  batches: {
    sqls: string[];
    database?: string;
    workgroupName?: string;
    secretArn?: string;
    sessionId?: string;
  }[];
  /** Every ExecuteStatement received, in order, its parameters as sent. */
  statements: { sql: string; parameters: Record<string, string>; sessionId?: string }[];
  /** Makes the next statement matching `pattern` fail with `message` (once). */
  failNext(pattern: RegExp, message: string): void;
  close(): Promise<void>;
}

/** PostgreSQL's type OIDs that the Data API sends as numbers (longValue). */
const INTEGER_OIDS = new Set([20, 21, 23]);
/** TIMESTAMP and DATE as text, the form Redshift's Data API sends them in (`2010-12-01 08:26:00`). */
const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 1114 || oid === 1082
      ? (text: string) => text
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

function field(value: unknown, oid: number): Field {
  if (value === null || value === undefined) return { isNull: true };
  if (INTEGER_OIDS.has(oid)) return { longValue: Number(value) };
  if (typeof value === 'number') return { doubleValue: value };
  if (typeof value === 'boolean') return { booleanValue: value };
  return { stringValue: String(value) };
}

const COPY_PARQUET = /^COPY (\S+) FROM '(s3:\/\/[^']+)' IAM_ROLE '([^']+)' FORMAT AS PARQUET MANIFEST$/;

export function fakeRedshiftData(connectionString: string, s3: S3Client): FakeRedshiftData {
  const statements = new Map<string, DescribeStatementResponse>();
  const batches: FakeRedshiftData['batches'] = [];
  const faults: { pattern: RegExp; message: string }[] = [];
  let nextId = 0;

  async function readObject(url: string): Promise<Uint8Array> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!match) throw new Error(`not an S3 URL: ${url}`);
    const object = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
    return object.Body!.transformToByteArray();
  }

  /** Redshift's COPY from a manifest of Parquet files, as INSERTs; returns the rows loaded. */
  async function copyParquet(
    client: pg.PoolClient | pg.Client,
    table: string,
    manifestUrl: string,
  ): Promise<number> {
    const manifest = JSON.parse(Buffer.from(await readObject(manifestUrl)).toString('utf8')) as {
      entries: { url: string; mandatory: boolean; meta?: { content_length?: number } }[];
    };
    let rows = 0;
    for (const entry of manifest.entries) {
      const bytes = await readObject(entry.url);
      if (entry.meta?.content_length !== bytes.byteLength) {
        throw new Error(
          `manifest entry ${entry.url}: meta.content_length ${entry.meta?.content_length} is not the object's ${bytes.byteLength} bytes`,
        );
      }
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const objects = await parquetReadObjects({ file: buffer });
      for (let i = 0; i < objects.length; i += 200) {
        const chunk = objects.slice(i, i + 200);
        const values: unknown[] = [];
        const tuples = chunk.map((row, r) => {
          // COPY of Parquet maps columns by position: the file's columns must be the table's, in order.
          const names = Object.keys(row);
          if (names.join() !== STORED_COLUMN_NAMES.join())
            throw new Error(`${entry.url}: columns ${names.join()}`);
          for (const name of STORED_COLUMN_NAMES) {
            const v = row[name];
            values.push(
              v instanceof Date
                ? v.toISOString().replace('T', ' ').replace('Z', '')
                : typeof v === 'bigint'
                  ? String(v)
                  : v,
            );
          }
          return `(${STORED_COLUMN_NAMES.map((_, c) => `$${r * STORED_COLUMN_NAMES.length + c + 1}`).join(', ')})`;
        });
        await client.query(
          `INSERT INTO ${table} (${STORED_COLUMN_NAMES.join(', ')}) VALUES ${tuples.join(', ')}`,
          values,
        );
      }
      rows += objects.length;
    }
    return rows;
  }

  async function runBatch(id: string, sqls: string[], session?: pg.Client): Promise<void> {
    const client = session ?? new pg.Client({ connectionString, types: PG_TYPES });
    if (!session) await client.connect();
    const subs: NonNullable<DescribeStatementResponse['SubStatements']> = sqls.map((sql, i) => ({
      Id: `${id}:${i + 1}`,
      QueryString: sql,
      Status: 'SUBMITTED',
    }));
    try {
      await client.query('BEGIN');
      for (const [i, sql] of sqls.entries()) {
        const fault = faults.findIndex((f) => f.pattern.test(sql));
        if (fault >= 0) {
          const { message } = faults.splice(fault, 1)[0]!;
          throw Object.assign(new Error(message), { index: i });
        }
        const copy = COPY_PARQUET.exec(sql);
        try {
          const rows = copy
            ? await copyParquet(client, copy[1]!, copy[2]!)
            : (await client.query(sql)).rowCount;
          subs[i] = { ...subs[i]!, Status: 'FINISHED', ResultRows: rows ?? -1 };
        } catch (err) {
          throw Object.assign(err as Error, { index: i });
        }
      }
      await client.query('COMMIT');
      statements.set(id, { Id: id, Status: 'FINISHED', SubStatements: subs, HasResultSet: false });
    } catch (err) {
      await client.query('ROLLBACK');
      const index = (err as { index?: number }).index ?? 0;
      subs[index] = { ...subs[index]!, Status: 'FAILED', Error: (err as Error).message };
      for (let j = index + 1; j < subs.length; j++) subs[j] = { ...subs[j]!, Status: 'ABORTED' };
      statements.set(id, { Id: id, Status: 'FAILED', Error: (err as Error).message, SubStatements: subs });
    } finally {
      if (!session) await client.end();
    }
  }

  const sessions = new Map<string, pg.Client>();
  const results = new Map<string, GetStatementResultResponse>();

  /** The session a call runs on: the one it names, a new one when it asks for one, or none. */
  async function sessionOf(input: {
    SessionId?: string | undefined;
    SessionKeepAliveSeconds?: number | undefined;
    Database?: string | undefined;
    WorkgroupName?: string | undefined;
    ClusterIdentifier?: string | undefined;
    SecretArn?: string | undefined;
  }): Promise<{ id: string; client: pg.Client } | undefined> {
    if (input.SessionId) {
      if (input.Database || input.WorkgroupName || input.ClusterIdentifier || input.SecretArn) {
        throw Object.assign(new Error('a call on a session names only the session'), {
          name: 'ValidationException',
        });
      }
      const client = sessions.get(input.SessionId);
      if (!client)
        throw Object.assign(new Error(`no session ${input.SessionId}`), { name: 'ValidationException' });
      return { id: input.SessionId, client };
    }
    if (!input.SessionKeepAliveSeconds) return undefined;
    const id = `00000000-0000-0000-0000-${String(sessions.size + 1).padStart(12, '0')}`;
    const client = new pg.Client({ connectionString, types: PG_TYPES });
    await client.connect();
    sessions.set(id, client);
    return { id, client };
  }

  async function runStatement(id: string, sql: string, values: string[], session?: pg.Client) {
    const client = session ?? new pg.Client({ connectionString, types: PG_TYPES });
    if (!session) await client.connect();
    try {
      const fault = faults.findIndex((f) => f.pattern.test(sql));
      if (fault >= 0) throw new Error(faults.splice(fault, 1)[0]!.message);
      const result = await client.query({ text: sql, values, rowMode: 'array' });
      const hasResultSet = result.fields.length > 0;
      statements.set(id, {
        Id: id,
        Status: 'FINISHED',
        ResultRows: hasResultSet ? result.rows.length : (result.rowCount ?? -1),
        HasResultSet: hasResultSet,
      });
      results.set(id, {
        ColumnMetadata: result.fields.map((f) => ({ name: f.name })),
        Records: (result.rows as unknown[][]).map((row) =>
          row.map((v, i) => field(v, result.fields[i]!.dataTypeID)),
        ),
      });
    } catch (err) {
      statements.set(id, { Id: id, Status: 'FAILED', Error: (err as Error).message });
    } finally {
      if (!session) await client.end();
    }
  }

  const executed: FakeRedshiftData['statements'] = [];
  const client = {
    async send(command: unknown) {
      if (command instanceof BatchExecuteStatementCommand) {
        const input = command.input;
        const id = `fake-${++nextId}`;
        const session = await sessionOf(input);
        batches.push({
          sqls: [...(input.Sqls ?? [])],
          ...(input.Database ? { database: input.Database } : {}),
          ...(input.WorkgroupName ? { workgroupName: input.WorkgroupName } : {}),
          ...(input.SecretArn ? { secretArn: input.SecretArn } : {}),
          ...(session ? { sessionId: session.id } : {}),
        });
        await runBatch(id, [...(input.Sqls ?? [])], session?.client);
        return { Id: id, ...(session ? { SessionId: session.id } : {}) };
      }
      if (command instanceof ExecuteStatementCommand) {
        const input = command.input;
        const id = `fake-${++nextId}`;
        const session = await sessionOf(input);
        const parameters = Object.fromEntries((input.Parameters ?? []).map((p) => [p.name!, p.value!]));
        executed.push({ sql: input.Sql!, parameters, ...(session ? { sessionId: session.id } : {}) });
        // `:name` as PostgreSQL's `$n`; a `::` cast is left alone.
        const values: string[] = [];
        const text = input.Sql!.replace(/(?<![:\w]):([A-Za-z_]\w*)/g, (_, name: string) => {
          if (!(name in parameters))
            throw Object.assign(new Error(`no value for :${name}`), { name: 'ValidationException' });
          values.push(parameters[name]!);
          return `$${values.length}`;
        });
        await runStatement(id, text, values, session?.client);
        return { Id: id, ...(session ? { SessionId: session.id } : {}) };
      }
      if (command instanceof GetStatementResultCommand) {
        const found = results.get(command.input.Id ?? '');
        if (!found)
          throw Object.assign(new Error(`no result for ${command.input.Id}`), {
            name: 'ResourceNotFoundException',
          });
        return found;
      }
      if (command instanceof DescribeStatementCommand) {
        const found = statements.get(command.input.Id ?? '');
        if (!found)
          throw Object.assign(new Error(`no statement ${command.input.Id}`), {
            name: 'ResourceNotFoundException',
          });
        return found;
      }
      if (command instanceof CancelStatementCommand) return { Status: true };
      throw new Error(`the fake Redshift Data API does not answer ${(command as object).constructor.name}`);
    },
    destroy() {},
  } as unknown as RedshiftDataClient;

  return {
    client,
    batches,
    statements: executed,
    failNext(pattern, message) {
      faults.push({ pattern, message });
    },
    async close() {
      for (const session of sessions.values()) await session.end();
      sessions.clear();
    },
  };
}
