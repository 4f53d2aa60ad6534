/**
 * Issue "One command, whole pipeline": boot of `ecomflow up` and a replay of the real data through the
 * running stack (POST /ingest until visible in GET /invoices/{no}), each figure beside a reference measured
 * in the same run: the raw PutRecords throughput of kinesalite and the raw BatchWriteItem throughput of
 * dynalite (the stand-ins the stack runs, on the same threads), and the original one-row-per-request design.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand } from '@aws-sdk/client-kinesis';
import { batchWrite, createDocumentClient } from '../src/adapters/dynamodb.js';
import { createKinesisClient, putRecords } from '../src/adapters/kinesis.js';
import { tableDefinitions } from '../src/adapters/table-definitions.js';
import { STACK_PORT_VARIABLES, STACK_PROCESS_ENV } from '../src/config/local.js';
import { itemsForLine } from '../src/core/dynamo-items.js';
import { LineCleaner } from '../src/core/line-cleaner.js';
import type { CleanLine } from '../src/core/schema.js';
import { startEmulators } from '../src/local/emulators.js';
import { readStackInfo } from '../src/local/stack.js';
import type { ReplaySummary } from '../src/replay/summary.js';
import { fmtMs, ROOT } from './lib.js';

const CLI = join(ROOT, 'bin', 'ecomflow.js');
const PORT_VARIABLES = STACK_PORT_VARIABLES;

export async function benchReplay(realData: string): Promise<string> {
  const homes: string[] = [];
  const stacks: RunningStack[] = [];
  try {
    // 1. Boot: a new state folder (initdb, tables, stream), then a restart on it.
    const home = newHome(homes);
    const vars = await stackVars(home);
    const first = await startStack(vars, stacks);
    const firstStop = await first.stop();
    const second = await startStack(vars, stacks);

    // 2. The original design's one row per request, on a slice not yet posted.
    const oneByOne = await replayJson(realData, vars, ['--limit', '2000', '--batch', '1', '--rate', '0']);

    // 3. The real data, as fast as the stack takes it: the sustained end-to-end throughput.
    const full = await replayJson(realData, vars, ['--rate', '0']);
    await second.stop();

    // 4. Freshness at rates the stack sustains (half and 80% of the figure above), each on a new stack.
    // Without an end-to-end figure (the last lines never showed), 1,250 rows/s stands in for it.
    const capacity = full.end_to_end?.rows_per_s ?? 1_250;
    const paced: { rate: number; summary: ReplaySummary }[] = [];
    for (const share of [0.5, 0.8]) {
      const rate = Math.max(100, Math.floor((capacity * share) / 100) * 100);
      const freshHome = newHome(homes);
      const freshVars = await stackVars(freshHome);
      const fresh = await startStack(freshVars, stacks);
      const summary = await replayJson(realData, freshVars, ['--limit', '20000', '--rate', String(rate)]);
      await fresh.stop();
      paced.push({ rate, summary });
    }

    // 5. References: the stand-ins alone, driven by the SDK from one thread, as the handlers drive them.
    const references = await standInReferences(realData);

    const goal = (ok: boolean) => (ok ? 'met' : '**missed**');
    const e2e = full.end_to_end?.rows_per_s ?? 0;
    const f = (s: ReplaySummary) =>
      `${fmtMs(s.freshness.p50_ms ?? 0)} / ${fmtMs(s.freshness.p99_ms ?? 0)} (${s.freshness.probes} probes, ${s.freshness.timed_out} timed out)`;
    return [
      `### Local stack: boot and replay (real data, ${full.rows.toLocaleString('en-US')} rows)`,
      '',
      '| figure | ecomflow | reference (same run) | goal |',
      '|---|---|---|---|',
      `| boot, new state folder (spawn → \`/health\` 200) | ${fmtMs(first.bootMs)} | | < 20 s: ${goal(first.bootMs < 20_000)} |`,
      `| boot, restart on the same state folder | ${fmtMs(second.bootMs)} | | < 20 s: ${goal(second.bootMs < 20_000)} |`,
      `| Ctrl-C to exit (buffers flushed) | ${fmtMs(firstStop)} | | seconds |`,
      `| replay end to end (\`--rate 0\`): first POST until the last lines show in GET | ${rate(e2e)} (${full.end_to_end ? `${full.end_to_end.seconds.toFixed(0)} s` : 'not all seen'}) | dynalite BatchWriteItem alone: ${rate(references.dynaliteLinesPerS)} (${rate(references.dynaliteItemsPerS, 'items/s')}, ${references.itemsPerLine.toFixed(2)} items a line) | ≥ 5,000 rows/s: ${goal(e2e >= 5_000)} |`,
      `| replay ingest: POST /ingest answered (1,000-row batches, 4 in flight) | ${rate(full.ingest.rows_per_s)} | kinesalite PutRecords alone: ${rate(references.kinesisRowsPerS)}; one row per request (2,000 rows): ${rate(oneByOne.ingest.rows_per_s)} | |`,
      ...paced.map(
        ({ rate: r, summary }) =>
          `| freshness p50 / p99 at ${r.toLocaleString('en-US')} rows/s (${Math.round((r / capacity) * 100)}% of the above; 20,000 rows) | ${f(summary)} | | p99 < 2 s: ${goal((summary.freshness.p99_ms ?? Number.POSITIVE_INFINITY) < 2_000)} |`,
      ),
      `| freshness p50 / p99 at \`--rate 0\` (a backlog builds up) | ${f(full)} | | |`,
      '',
      `Rows accepted ${full.accepted.toLocaleString('en-US')}, rejected ${full.rejected.toLocaleString('en-US')} (the cleaning core predicted ${full.expected.accepted.toLocaleString('en-US')} and ${full.expected.rejected.toLocaleString('en-US')}). ` +
        `Every line costs ${references.itemsPerLine.toFixed(2)} DynamoDB items (its line, its invoice-stock membership, its customer line), and dynalite validates and stores each through LevelDB on its one thread: ` +
        `fed alone, by two writers as the two shards feed it, it takes ${rate(references.dynaliteLinesPerS)}, the same order as the end-to-end figure. ` +
        `The rest of the path (API, kinesalite, the transform's SDK calls, Firehose, Parquet, COPY) shares the machine's other core.`,
      '',
    ].join('\n');
  } finally {
    for (const stack of stacks) await stack.stop().catch(() => {});
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  }
}

export interface RunningStack {
  bootMs: number;
  /** SIGINT; resolves to the time until the process exited. */
  stop(): Promise<number>;
}

function rate(value: number, unit = 'rows/s'): string {
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

/**
 * Runs `measure` on a new `ecomflow up` in a new state folder, then stops the stack and removes the folder,
 * whatever happened: the frame of every section that measures a running stack.
 */
export async function withFreshStack<T>(
  measure: (fresh: { home: string; vars: Record<string, string>; stack: RunningStack }) => Promise<T>,
): Promise<T> {
  const homes: string[] = [];
  const stacks: RunningStack[] = [];
  try {
    const home = newHome(homes);
    const vars = await stackVars(home);
    const stack = await startStack(vars, stacks);
    return await measure({ home, vars, stack });
  } finally {
    for (const stack of stacks) await stack.stop().catch(() => {});
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  }
}

/** A state folder PostgreSQL (run as `postgres` when we are root) can reach. */
export function newHome(homes: string[]): string {
  const home = mkdtempSync(join(tmpdir(), 'ecomflow-bench-stack-'));
  chmodSync(home, 0o755);
  homes.push(home);
  return home;
}

export async function stackVars(home: string): Promise<Record<string, string>> {
  const servers = await Promise.all(
    PORT_VARIABLES.map(async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return {
    ECOMFLOW_HOME: home,
    ...Object.fromEntries(PORT_VARIABLES.map((name, i) => [name, String(ports[i])])),
  };
}

export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...STACK_PROCESS_ENV,
    ...vars,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Spawns `ecomflow up --no-sample` and times it until `/health` answers 200. */
export async function startStack(
  vars: Record<string, string>,
  stacks: RunningStack[],
): Promise<RunningStack> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [CLI, 'up', '--no-sample'], {
    cwd: ROOT,
    env: childEnv(vars),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ecomflow up exited with ${child.exitCode}:\n${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${vars['PORT']}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (performance.now() - started > 120_000)
      throw new Error(`ecomflow up not healthy in 120 s:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const bootMs = performance.now() - started;
  // stack.json is written just after the gateway answers: wait for this run's (a restart finds the last
  // run's there until it is rewritten), so every section can read it at once.
  const home = vars['ECOMFLOW_HOME']!;
  while ((await readStackInfo(home).catch(() => undefined))?.pid !== child.pid) {
    if (child.exitCode !== null) throw new Error(`ecomflow up exited with ${child.exitCode}:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  let stopping: Promise<number> | null = null;
  const stack: RunningStack = {
    bootMs,
    stop: () => {
      stopping ??= (async () => {
        const at = performance.now();
        if (child.exitCode === null) child.kill('SIGINT');
        await exited;
        return performance.now() - at;
      })();
      return stopping;
    },
  };
  stacks.push(stack);
  return stack;
}

/** Runs `ecomflow <args>` against the stack of `vars`: its stdout and wall time; throws on a failure. */
export async function runCli(
  args: string[],
  vars: Record<string, string>,
  allowFailure = false,
): Promise<{ stdout: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: childEnv(vars),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0 && !allowFailure) throw new Error(`ecomflow ${args.join(' ')} exited ${code}: ${stdout}`);
  return { stdout, ms: performance.now() - started };
}

/** `ecomflow replay <file> --json <args>` against the stack of `vars`. */
export async function replayJson(
  file: string,
  vars: Record<string, string>,
  args: string[],
): Promise<ReplaySummary> {
  const { stdout } = await runCli(['replay', file, '--json', ...args], vars);
  return JSON.parse(stdout) as ReplaySummary;
}

/**
 * kinesalite and dynalite on their worker threads, as the stack runs them, driven through the adapters:
 * PutRecords of every row of the file (one record a row, keyed by invoice), and BatchWriteItem of the items
 * of the first 20,000 clean lines.
 */
async function standInReferences(realData: string): Promise<{
  kinesisRowsPerS: number;
  dynaliteItemsPerS: number;
  dynaliteLinesPerS: number;
  itemsPerLine: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'ecomflow-bench-standins-'));
  const emulators = await startEmulators(dir, { kinesis: 0, dynamodb: 0, s3: 0 });
  const aws = { region: 'us-east-1', endpoints: emulators.endpoints };
  const kinesis = createKinesisClient(aws);
  const doc = createDocumentClient(aws);
  try {
    const text = gunzipSync(readFileSync(realData)).toString('latin1');
    const rows = text
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '');
    await kinesis.send(new CreateStreamCommand({ StreamName: 'bench', ShardCount: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const putStarted = performance.now();
    for (let i = 0; i < rows.length; i += 10_000) {
      const records = rows.slice(i, i + 10_000).map((row) => ({
        partitionKey: row.slice(0, row.indexOf(',')) || 'none',
        data: Buffer.from(row),
      }));
      await putRecords(kinesis, 'bench', records, { concurrency: 4 });
    }
    const kinesisRowsPerS = rows.length / ((performance.now() - putStarted) / 1000);

    const lines: CleanLine[] = [];
    const cleaner = new LineCleaner({ line: (l) => lines.push(l), reject: () => {} });
    cleaner.push(`${text.slice(0, text.indexOf('\n'))}\n${rows.slice(0, 25_000).join('\n')}\n`);
    cleaner.end();
    const sample = lines.slice(0, 20_000);
    const tables = { invoices: 'bench-invoices', customers: 'bench-customers' };
    for (const table of tableDefinitions(tables)) await doc.send(new CreateTableCommand(table));
    let items = 0;
    const writeStarted = performance.now();
    // As the transform writes: per shard (two), a Kinesis batch of 500 lines at a time, 4 requests in flight.
    const half = sample.length / 2;
    await Promise.all(
      [sample.slice(0, half), sample.slice(half)].map(async (shard) => {
        for (let i = 0; i < shard.length; i += 500) {
          const writes = shard.slice(i, i + 500).flatMap(itemsForLine);
          items += writes.length;
          await batchWrite(doc, tables, writes, { concurrency: 4 });
        }
      }),
    );
    const seconds = (performance.now() - writeStarted) / 1000;
    return {
      kinesisRowsPerS,
      dynaliteItemsPerS: items / seconds,
      dynaliteLinesPerS: sample.length / seconds,
      itemsPerLine: items / sample.length,
    };
  } finally {
    kinesis.destroy();
    doc.destroy();
    await emulators.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
