/**
 * Ctrl-C while a replay is streaming rows in: the stack stops cleanly, the replay reports the connection
 * errors and exits (it does not hang), and after a restart every row the API acknowledged (202) is in
 * DynamoDB (through GET /invoices/{no}), in the lake and in the warehouse. Both to the process alone and
 * to its whole process group, as a terminal sends it: the embedded PostgreSQL must not stop first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { generateCsv } from '../../src/core/generate.js';
import {
  countLines,
  incompleteInvoices,
  lakeMissingAcked,
  type ReplayProcess,
  readAckLog,
  startReplay,
  warehouseHoldsAcked,
} from '../helpers/replay-process.js';
import {
  CLI,
  childEnv,
  cleanUp,
  eventually,
  makeHome,
  ROOT,
  type StackProcess,
  stackEnv,
  startStackProcess,
} from '../helpers/stack-process.js';

jest.setTimeout(180_000);

let home: string;
let stack: StackProcess | undefined;
let replayChild: ChildProcess | undefined;
let replay: ReplayProcess | undefined;

beforeEach(async () => {
  home = await makeHome();
});
afterEach(async () => {
  replayChild?.kill('SIGKILL');
  replay?.child.kill('SIGKILL');
  await cleanUp(stack, home);
});

describe('Ctrl-C under load', () => {
  it('loses no acknowledged row: after a restart each is in DynamoDB, the lake and the warehouse', async () => {
    // Prepare
    const vars = await stackEnv(home);
    stack = await startStackProcess(vars);
    // The replay reads its rows from a pipe that is handed only the first half of them, and stays open until
    // the stack has stopped: the replay cannot finish before the Ctrl-C, however fast it runs.
    const [header, ...rows] = [...generateCsv({ rows: 20_000, seed: 4 })];
    const ackLog = join(home, 'acked.tsv');
    const child = spawn(
      process.execPath,
      [CLI, 'replay', '-', '--rate', '5000', '--ack-log', ackLog, '--json'],
      {
        cwd: ROOT,
        env: childEnv(vars),
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    replayChild = child;
    // A replay that exits early closes its end of the pipe; its exit code and output say why, not an EPIPE here.
    child.stdin.on('error', () => {});
    child.stdin.write(`${[header, ...rows.slice(0, 10_000)].join('\n')}\n`);
    let replayOut = '';
    let replayErr = '';
    child.stdout.on('data', (d) => {
      replayOut += d;
    });
    child.stderr.on('data', (d) => {
      replayErr += d;
    });
    const replayExit = new Promise<number | null>((resolve) => child.once('exit', resolve));

    // Act: Ctrl-C once a third of the rows are acknowledged, while the poller has a backlog; then the input
    // ends, without the rest of the rows.
    await eventually('the replay has 7,000 acknowledged rows', async () =>
      (await countLines(ackLog)) >= 7_000 ? true : undefined,
    );
    const stopCode = await stack.stop('SIGINT');
    child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const replayCode = await Promise.race([
      replayExit,
      new Promise<'hung'>((resolve) => {
        timer = setTimeout(() => resolve('hung'), 30_000);
      }),
    ]);
    clearTimeout(timer);
    stack = await startStackProcess(vars);

    // Assess: both processes ended on their own, the replay saying why.
    expect(stopCode).toBe(0);
    expect(replayCode).toBe(1);
    const summary = JSON.parse(replayOut) as { accepted: number; rows: number; error: string | null };
    expect(summary.error).toMatch(/POST \/ingest|GET \/invoices/);
    expect(replayErr).toMatch(/stopped early/);
    const acked = await readAckLog(ackLog);
    expect(summary.accepted).toBe(await countLines(ackLog));
    expect(summary.rows).toBeLessThan(20_000);
    expect(acked.size).toBeGreaterThan(6_000);

    // The lake: DuckDB reads the ack log beside the lake and counts what is missing.
    const missingFromLake = await lakeMissingAcked(ackLog, vars, 90_000);
    expect(missingFromLake).toBe(0);

    // DynamoDB, through the API: every acknowledged line is listed on its invoice.
    const { apiUrl, apiKey } = stack;
    expect(await incompleteInvoices(apiUrl, apiKey, acked)).toEqual([]);

    // The warehouse's raw table.
    const inWarehouse = await warehouseHoldsAcked(acked, vars);
    expect(inWarehouse.size).toBeGreaterThanOrEqual(acked.size);
  });

  it('to the whole process group: the stack flushes, exits 0, and after a restart the lake and warehouse hold every acknowledged line', async () => {
    // Prepare: the stack leads its own group, as `npm start` in a terminal does.
    const vars = await stackEnv(home);
    stack = await startStackProcess(vars, 60_000, { group: true });
    const data = join(home, 'replay.csv');
    await writeFile(data, `${[...generateCsv({ rows: 4_000, seed: 5 })].join('\n')}\n`);
    const ackLog = join(home, 'acked.tsv');
    replay = startReplay(data, ackLog, 2_000, vars);

    // Act: Ctrl-C to the group once some rows are acknowledged and the replay still posts.
    await eventually('the replay has 1,500 acknowledged rows', async () =>
      (await countLines(ackLog)) >= 1_500 ? true : undefined,
    );
    const stopCode = await stack.stop('SIGINT', 20_000);
    const { stderr } = stack.output();
    await replay.exited;
    stack = await startStackProcess(vars);

    // Assess: a clean stop, with PostgreSQL still there for the flush.
    expect(stopCode).toBe(0);
    expect(stderr).toMatch(/stopped\n/);
    expect(stderr).not.toMatch(/delivery failed|while stopping/);
    const acked = await readAckLog(ackLog);
    expect(acked.size).toBeGreaterThanOrEqual(1_500);
    const missingFromLake = await lakeMissingAcked(ackLog, vars, 60_000);
    expect(missingFromLake).toBe(0);
    const inWarehouse = await warehouseHoldsAcked(acked, vars);
    expect(inWarehouse.size).toBeGreaterThanOrEqual(acked.size);
  });
});
