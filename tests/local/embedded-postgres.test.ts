/**
 * The embedded PostgreSQL as the local stack starts it: in a session of its own (a terminal's Ctrl-C to
 * the stack's group does not reach it), stopped explicitly, a stop after it has exited returning at once,
 * and a server a killed stack left running stopped by the next start.
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type RunningEmbeddedPostgres, startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';
import { freePort } from '../helpers/load-targets.js';
import { ROOT } from '../helpers/stack-process.js';

let dir: string;
let servers: RunningEmbeddedPostgres[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-pg-'));
  // As root the server runs as `postgres`, which must reach its data folder.
  await chmod(dir, 0o755);
  servers = [];
});
afterEach(async () => {
  for (const server of servers) await server.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The process group of `pid`, as `ps` shows it. */
async function processGroup(pid: number): Promise<number> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pgid=', '-p', String(pid)]);
  return Number(stdout.trim());
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function start(port: number, detached: boolean) {
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port, detached });
  servers.push(server);
  return server;
}

async function selectOne(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows[0];
  } finally {
    await client.end();
  }
}

describe('the embedded PostgreSQL', () => {
  it('detached, runs in a process group of its own, and answers', async () => {
    // Act
    const server = await start(await freePort(), true);

    // Assess
    expect(await processGroup(server.pid)).toBe(server.pid);
    expect(await processGroup(server.pid)).not.toBe(await processGroup(process.pid));
    expect(await selectOne(server.connectionString)).toEqual({ one: 1 });
  });

  it('not detached, shares our process group', async () => {
    // Act
    const server = await start(await freePort(), false);

    // Assess
    expect(await processGroup(server.pid)).toBe(await processGroup(process.pid));
  });

  it('stops, and a stop after it has exited (on its own, or a second stop) returns at once', async () => {
    // Prepare
    const server = await start(await freePort(), true);

    // Act: it dies under us (as a Ctrl-C to its group would stop it), then we stop it twice.
    process.kill(server.pid, 'SIGINT');
    await server.stop();
    await server.stop();

    // Assess
    expect(gone(server.pid)).toBe(true);
  });

  it('stops a server that a killed stack left running in the same folder, then starts', async () => {
    // Prepare: a process starts a server, then is killed with SIGKILL (no exit hook runs).
    const port = await freePort();
    const script = `import('./tests/helpers/postgres-owner-child.ts').then((m) => m.run(${JSON.stringify([join(dir, 'data'), String(port)])}))`;
    const owner = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const leftPid = await new Promise<number>((resolve, reject) => {
      owner.stdout.on('data', (d: Buffer) => {
        const found = /started (\d+)/.exec(d.toString());
        if (found) resolve(Number(found[1]));
      });
      owner.once('exit', (code) =>
        reject(new Error(`the owner exited (${code}) before starting PostgreSQL`)),
      );
    });
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    const leftRunning = !gone(leftPid);

    // Act
    const server = await start(port, true);

    // Assess
    expect(leftRunning).toBe(true);
    expect(gone(leftPid)).toBe(true);
    expect(server.pid).not.toBe(leftPid);
    expect(await selectOne(server.connectionString)).toEqual({ one: 1 });
  });

  it('leaves alone a server whose owner still runs, and fails to start beside it', async () => {
    // Prepare: a server started (and still owned) by this process.
    const port = await freePort();
    const owned = await start(port, true);

    // Act
    const second = startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      port: await freePort(),
      detached: true,
    });

    // Assess
    await expect(second).rejects.toThrow(/did not start.*postmaster\.pid/);
    expect(gone(owned.pid)).toBe(false);
    expect(await selectOne(owned.connectionString)).toEqual({ one: 1 });
  });
});

describe('logins', () => {
  const ROLES = {
    pipeline: { user: 'ecomflow_pipeline', password: 'pipeline-secret' },
    reader: { user: 'ecomflow_reader', password: 'reader-secret' },
  };

  /** Runs `sql` as the login of `url`; resolves to the rows, or rejects with PostgreSQL's error. */
  async function as(url: string, sql: string): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  }

  it('gives the pipeline and the BI clients logins that are not superusers, each with only what it needs', async () => {
    // Prepare
    const port = await freePort();
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port, roles: ROLES });
    servers.push(server);
    const pipeline = server.connectionString;
    const reader = server.readerConnectionString!;

    // Act: the pipeline builds what the refresh and the loads build.
    await as(
      pipeline,
      'CREATE SCHEMA IF NOT EXISTS "raw"; CREATE TABLE "raw".t (n int); INSERT INTO "raw".t VALUES (1)',
    );
    await as(pipeline, 'CREATE TABLE marts.m (n int); INSERT INTO marts.m VALUES (2)');

    // Assess
    for (const url of [pipeline, reader]) {
      const [me] = await as(
        url,
        'SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user',
      );
      expect(me).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
    }
    expect(await as(reader, 'SELECT n FROM marts.m')).toEqual([{ n: 2 }]);
    await expect(as(reader, 'SELECT n FROM "raw".t')).rejects.toThrow(/permission denied/);
    await expect(as(reader, 'INSERT INTO marts.m VALUES (3)')).rejects.toThrow(/permission denied/);
    // What a superuser could do and these logins cannot: run a program as the server's OS user.
    await expect(as(pipeline, 'COPY "raw".t TO PROGRAM \'true\'')).rejects.toThrow(
      /permission denied|must be superuser|privileges of the pg_execute_server_program role/,
    );
  });

  it("brings an older state folder's warehouse up to date: new superuser password, its tables handed to the pipeline", async () => {
    // Prepare: a warehouse as the stack made it before the logins, with the default superuser password.
    const port = await freePort();
    const legacy = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port });
    await as(
      legacy.connectionString,
      'CREATE SCHEMA IF NOT EXISTS "raw"; CREATE TABLE "raw".t (n int); INSERT INTO "raw".t VALUES (1)',
    );
    await legacy.stop();

    // Act
    const server = await startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      port,
      password: 'new-admin-secret',
      previousPassword: 'ecomflow',
      roles: ROLES,
    });
    servers.push(server);

    // Assess
    await as(server.connectionString, 'INSERT INTO "raw".t VALUES (2)');
    expect(await as(server.connectionString, 'SELECT count(*)::int AS n FROM "raw".t')).toEqual([{ n: 2 }]);
    await expect(as(legacy.connectionString, 'SELECT 1')).rejects.toThrow(/password authentication failed/);
  });
});
