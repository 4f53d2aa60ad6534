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
