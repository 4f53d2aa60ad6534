import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { PgWarehouse } from '../../src/adapters/pg-warehouse.js';
import { createPipelineResources } from '../../src/adapters/provision.js';
import type { LoadTargets } from '../../src/batch/load.js';
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';
import { type Emulators, startEmulators } from './emulators.js';

export const LAKE_BUCKET = 'ecomflow-test-lake';
export const LAKE_PREFIX = 'lake/invoice_lines/';

/** A free TCP port on 127.0.0.1 (for servers that cannot take port 0, like PostgreSQL). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface LoadBench {
  emu: Emulators;
  warehouse: PgWarehouse;
  warehouseUrl: string;
  dir: string;
  targets: LoadTargets;
  /** Keys of the lake's objects. */
  lakeKeys(prefix?: string): Promise<string[]>;
  /** Downloads the lake's objects under `prefix` and returns a DuckDB `read_parquet(...)` over them. */
  lakeTable(prefix?: string): Promise<string>;
  /**
   * Empties the targets, for a test that must not see what another loaded: deletes the lake's objects and
   * truncates every table of the warehouse's raw, staging and marts schemas (the schemas, their owners and
   * grants stay; raw.invoice_lines is created if missing). Load manifests are the caller's: give each test
   * its own manifest folder.
   */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The batch path's real targets: s3rver for the lake, an embedded PostgreSQL for the warehouse. */
export async function startLoadTargets(): Promise<LoadBench> {
  const dir = await mkdtemp(join(tmpdir(), 'ecomflow-load-'));
  // mkdtemp makes 0700; PostgreSQL, run as `postgres` when the tests run as root, must reach its data dir.
  await chmod(dir, 0o755);
  const emu = await startEmulators();
  const local = await startEmbeddedPostgres({ dataDir: join(dir, 'warehouse'), port: await freePort() });
  const warehouse = new PgWarehouse(local.connectionString);
  await createPipelineResources({ s3: emu.s3 }, { buckets: [LAKE_BUCKET] });
  const lakeKeys = async (prefix = LAKE_PREFIX) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await emu.s3.send(
        new ListObjectsV2Command({ Bucket: LAKE_BUCKET, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) keys.push(object.Key!);
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  };
  return {
    emu,
    warehouse,
    warehouseUrl: local.connectionString,
    dir,
    targets: {
      lake: {
        put: async (key, body) => {
          await emu.s3.send(new PutObjectCommand({ Bucket: LAKE_BUCKET, Key: key, Body: body }));
        },
      },
      lakePrefix: LAKE_PREFIX,
      warehouse,
    },
    lakeKeys,
    async lakeTable(prefix = LAKE_PREFIX) {
      const target = await mkdtemp(join(dir, 'lake-copy-'));
      const keys = await lakeKeys(prefix);
      for (const key of keys) {
        const object = await emu.s3.send(new GetObjectCommand({ Bucket: LAKE_BUCKET, Key: key }));
        const file = join(target, key);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, await object.Body!.transformToByteArray());
      }
      return `read_parquet('${target}/**/*.parquet', hive_partitioning = true)`;
    },
    async reset() {
      const keys = await lakeKeys('');
      // DeleteObjects takes at most 1,000 keys a request.
      for (let i = 0; i < keys.length; i += 1000) {
        const answer = await emu.s3.send(
          new DeleteObjectsCommand({
            Bucket: LAKE_BUCKET,
            Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
          }),
        );
        if (answer.Errors?.length) throw new Error(`reset: ${answer.Errors.length} lake objects not deleted`);
      }
      await warehouse.query(`DO $$ DECLARE t record; BEGIN
        FOR t IN SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('raw', 'staging', 'marts') LOOP
          EXECUTE format('TRUNCATE %I.%I', t.schemaname, t.tablename);
        END LOOP;
      END $$`);
      // As the stack at start-up: raw.invoice_lines is there even before a first load.
      await warehouse.ensureRaw();
    },
    async stop() {
      await warehouse.close();
      await local.stop();
      await emu.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
