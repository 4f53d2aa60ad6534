/**
 * The real `ecomflow up` as a child process, for end-to-end tests over HTTP only: a temporary state folder,
 * a free port for every part, a short Firehose buffer. Also runs other CLI commands beside it.
 * `bin/ecomflow.js` runs `dist/`, which the jest global setup keeps fresh.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_PORT_VARIABLES, STACK_PROCESS_ENV } from '../../src/config/local.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'ecomflow.js');

/** The variables that place each part of the stack on a port. */
export const PORT_ENV = STACK_PORT_VARIABLES;

/**
 * Where the tests' stacks listen: below the kernel's ephemeral range (32768-60999 on Linux), from which
 * client sockets take their local ports. A port handed out by `listen(0)` comes from that range, and a
 * stack that binds it again after a restart could find it taken by some connection meanwhile (the
 * restarts test did, once in three runs). Each jest worker has a slice of its own, so test files running
 * in parallel never pick the same port.
 */
const TEST_PORTS = { first: 20_000, perWorker: 1_500, workers: 8 } as const;

/** Whether 127.0.0.1:`port` can be listened on now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `n` distinct ports free right now, from this jest worker's slice of TEST_PORTS. */
export async function freePorts(n: number): Promise<number[]> {
  const worker = (Number(process.env['JEST_WORKER_ID'] ?? 1) - 1) % TEST_PORTS.workers;
  const base = TEST_PORTS.first + worker * TEST_PORTS.perWorker;
  // A random start, so that the next test in this worker does not reuse the ports the last one had.
  const start = Math.floor(Math.random() * TEST_PORTS.perWorker);
  const ports: number[] = [];
  for (let i = 0; ports.length < n && i < TEST_PORTS.perWorker; i++) {
    const port = base + ((start + i) % TEST_PORTS.perWorker);
    if (await canListen(port)) ports.push(port);
  }
  if (ports.length < n)
    throw new Error(`fewer than ${n} free ports from ${base} to ${base + TEST_PORTS.perWorker - 1}`);
  return ports;
}

/**
 * A temporary state folder. World-readable: as root, the embedded PostgreSQL runs as `postgres` and must
 * reach its data folder inside it.
 */
export async function makeHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'ecomflow-e2e-'));
  await chmod(home, 0o755);
  return home;
}

/** The environment of a child: ours without jest's flags, with the stack's variables set. */
export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...STACK_PROCESS_ENV, ...vars };
  delete env['NODE_OPTIONS'];
  env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  return env;
}

/** Environment for a stack in `home` on free ports, with a 200 ms Firehose buffer. */
export async function stackEnv(
  home: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const ports = await freePorts(PORT_ENV.length);
  return {
    ECOMFLOW_HOME: home,
    ECOMFLOW_FIREHOSE_BUFFER_MS: '200',
    // Tests that count the lake's stored copies run compaction themselves; a test can turn the timer on.
    ECOMFLOW_COMPACT_INTERVAL_MS: '0',
    // Likewise the live refresh: tests that refresh run `ecomflow refresh`; a test can turn the timer on.
    ECOMFLOW_REFRESH_INTERVAL_MS: '0',
    ...Object.fromEntries(PORT_ENV.map((name, i) => [name, String(ports[i])])),
    ...extra,
  };
}

export interface StackProcess {
  child: ChildProcess;
  /** True when it leads a process group of its own: stop() then signals the whole group, as a terminal does. */
  group: boolean;
  apiUrl: string;
  apiKey: string;
  output(): { stdout: string; stderr: string };
  /** Sends `signal` and resolves to the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/**
 * Spawns `ecomflow up --no-sample` and resolves once `GET /health` answers 200. With `group`, it leads a
 * process group of its own, as a command started from a terminal does, and stop() signals the group.
 * @throws when the process exits first (with its stderr) or is not up within `timeoutMs`
 */
export async function startStackProcess(
  vars: Record<string, string>,
  timeoutMs = 60_000,
  { group = false }: { group?: boolean } = {},
): Promise<StackProcess> {
  const child = spawn(process.execPath, [CLI, 'up', '--no-sample'], {
    cwd: ROOT,
    env: childEnv(vars),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const apiUrl = `http://127.0.0.1:${vars['PORT']}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`ecomflow up exited with ${child.exitCode} before it was healthy:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGINT');
      throw new Error(`ecomflow up was not healthy within ${timeoutMs} ms:\n${stderr}`);
    }
    const status = await fetch(`${apiUrl}/health`).then(
      (r) => r.status,
      () => 0,
    );
    // Healthy, and stack.json is this process's (a restart finds the last run's there until it is rewritten).
    const info = status === 200 ? await readStackFile(vars) : undefined;
    if (info?.pid === child.pid) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const info = (await readStackFile(vars))!;
  return {
    child,
    group,
    apiUrl,
    apiKey: info.apiKey,
    output: () => ({ stdout, stderr }),
    async stop(signal = 'SIGINT', stopTimeoutMs = 30_000) {
      if (gone) return child.exitCode;
      if (group) process.kill(-child.pid!, signal);
      else child.kill(signal);
      let timeout: NodeJS.Timeout | undefined;
      const timer = new Promise<'timeout'>((resolve) => {
        timeout = setTimeout(() => resolve('timeout'), stopTimeoutMs);
      });
      const result = await Promise.race([exited, timer]);
      clearTimeout(timeout);
      if (result === 'timeout')
        throw new Error(`ecomflow up did not stop within ${stopTimeoutMs} ms:\n${stderr}`);
      return result;
    },
  };
}

/**
 * Last-resort cleanup: stops the stack if a test left it running (SIGKILL after a grace period, then the
 * PostgreSQL it started, which a killed parent cannot stop), and removes the state folder.
 */
export async function cleanUp(stack: StackProcess | undefined, home: string | undefined): Promise<void> {
  if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
    await stack.stop('SIGINT', 20_000).catch(async () => {
      stack.child.kill('SIGKILL');
      if (home) await killWarehouse(home);
    });
  }
  if (home) await rm(home, { recursive: true, force: true });
}

async function killWarehouse(home: string): Promise<void> {
  const pid = await readFile(join(home, 'warehouse', 'postmaster.pid'), 'utf8').then(
    (text) => Number(text.split('\n')[0]),
    () => 0,
  );
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ecomflow <args>` to completion. */
export function runCli(args: string[], vars: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: childEnv(vars),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ecomflow ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `ecomflow query --json <sql>`: the rows, or an error with stderr. */
export async function lakeQuery(
  sql: string,
  vars: Record<string, string>,
): Promise<Record<string, unknown>[]> {
  const result = await runCli(['query', '--json', sql], vars);
  if (result.code !== 0) throw new Error(`ecomflow query failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
}

/** `ecomflow sql --json <sql>` on the local warehouse. */
export async function warehouseQuery(
  sql: string,
  vars: Record<string, string>,
): Promise<Record<string, unknown>[]> {
  const result = await runCli(['sql', '--json', sql], vars);
  if (result.code !== 0) throw new Error(`ecomflow sql failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
}

/** Polls `check` until it returns a value that is not undefined; throws with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `<home>/stack.json`, or undefined while there is none. */
async function readStackFile(
  vars: Record<string, string>,
): Promise<{ pid: number; apiKey: string } | undefined> {
  const text = await readFile(join(vars['ECOMFLOW_HOME']!, 'stack.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as { pid: number; apiKey: string });
}
