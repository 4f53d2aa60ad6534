/**
 * A stand-in for the Redshift Data API, for tests: there is no Redshift emulator, so this fake answers
 * BatchExecuteStatement / DescribeStatement / CancelStatement and runs each batch as one transaction on a
 * real PostgreSQL (the embedded one that stands in for Redshift locally). Every statement runs as written,
 * except Redshift's `COPY <table> FROM 's3://…manifest' IAM_ROLE '…' FORMAT AS PARQUET MANIFEST`, which
 * PostgreSQL does not have: the fake reads the manifest and the Parquet parts it lists from S3 (s3rver),
 * checks what Redshift checks (mandatory entries, `meta.content_length` equal to each object's size), and
 * inserts the rows. Faults can be injected per statement.
 */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import pg from 'pg';
import { STORED_COLUMN_NAMES } from '../../src/core/schema.js';

export interface FakeRedshiftData {
  client: RedshiftDataClient;
  /** Every batch received, in order, with the parameters it came with. */
  batches: { sqls: string[]; database?: string; workgroupName?: string; secretArn?: string }[];
  /** Makes the next statement matching `pattern` fail with `message` (once). */
  failNext(pattern: RegExp, message: string): void;
  close(): Promise<void>;
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

  async function runBatch(id: string, sqls: string[]): Promise<void> {
    const client = new pg.Client({ connectionString });
    await client.connect();
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
      await client.end();
    }
  }

  const client = {
    async send(command: unknown) {
      if (command instanceof BatchExecuteStatementCommand) {
        const input = command.input;
        const id = `fake-${++nextId}`;
        batches.push({
          sqls: [...(input.Sqls ?? [])],
          ...(input.Database ? { database: input.Database } : {}),
          ...(input.WorkgroupName ? { workgroupName: input.WorkgroupName } : {}),
          ...(input.SecretArn ? { secretArn: input.SecretArn } : {}),
        });
        await runBatch(id, [...(input.Sqls ?? [])]);
        return { Id: id };
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
    failNext(pattern, message) {
      faults.push({ pattern, message });
    },
    async close() {},
  };
}
