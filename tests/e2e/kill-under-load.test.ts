/**
 * The local stack's state survives a SIGKILL: the poller's checkpoint file stays valid JSON (it is
 * replaced atomically), a restart stops the PostgreSQL the killed stack left running and goes on, and
 * every line the API acknowledged ends up in DynamoDB and the lake's view exactly once. A state file that
 * cannot be read stops the start with one line naming it; a torn spool segment is delivered without its
 * torn last line.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { ndjsonRecord } from '../../src/adapters/firehose.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import { generateCsv } from '../../src/core/generate.js';
import { FIREHOSE_SPOOL_DIR } from '../../src/local/firehose-delivery.js';
import { postedRows } from '../helpers/posted-rows.js';
import {
  ackLogTable,
  countLines,
  listedLines,
  type ReplayProcess,
  readAckLog,
  startReplay,
  warehouseHoldsAcked,
} from '../helpers/replay-process.js';
import {
  cleanUp,
  eventually,
  lakeQuery,
  makeHome,
  runCli,
  type StackProcess,
  stackEnv,
  startStackProcess,
  warehouseQuery,
} from '../helpers/stack-process.js';

jest.setTimeout(180_000);

/** Where the stack keeps the poller's checkpoints (src/local/stack.ts). */
const CHECKPOINTS = 'poller-checkpoints.json';

let home: string;
let stack: StackProcess | undefined;
let replay: ReplayProcess | undefined;

beforeEach(async () => {
  home = await makeHome();
  stack = undefined;
  replay = undefined;
});
afterEach(async () => {
  replay?.child.kill('SIGKILL');
  await cleanUp(stack, home);
});

/** The checkpoint file parsed, or undefined when there is none; throws when it is not valid JSON. */
async function checkpoints(): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(join(home, CHECKPOINTS), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

describe('SIGKILL under load', () => {
  it('keeps the checkpoint valid, and after a restart every acknowledged line is in DynamoDB and the lake view exactly once', async () => {
    // Prepare
    const vars = await stackEnv(home);
    stack = await startStackProcess(vars);
    const data = join(home, 'replay.csv');
    await writeFile(data, `${[...generateCsv({ rows: 4_000, seed: 6 })].join('\n')}\n`);
    const ackLog = join(home, 'acked.tsv');
    replay = startReplay(data, ackLog, 2_000, vars);

    // Act: kill -9 mid-replay, then start again in the same state folder.
    await eventually('the replay has 1,500 acknowledged rows', async () =>
      (await countLines(ackLog)) >= 1_500 ? true : undefined,
    );
    await stack.stop('SIGKILL');
    const afterKill = await checkpoints();
    await replay.exited;
    stack = await startStackProcess(vars);

    // Assess: the checkpoint file was never torn, and the restart drains what the kill left.
    expect(afterKill === undefined || typeof afterKill === 'object').toBe(true);
    const acked = await readAckLog(ackLog);
    expect(acked.size).toBeGreaterThanOrEqual(1_500);
    const lake = await eventually(
      'every acknowledged line is in the lake view',
      async () => {
        const [row] = await lakeQuery(
          `SELECT count(*) FILTER (WHERE n IS NULL) AS missing, count(*) FILTER (WHERE n > 1) AS doubled FROM ${ackLogTable(ackLog)} LEFT JOIN (SELECT line_id, count(*) AS n FROM invoice_lines GROUP BY line_id) AS l ON l.line_id = a.line_id`,
          vars,
        );
        return Number(row!['missing']) === 0 ? row! : undefined;
      },
      90_000,
      1_000,
    );
    expect(Number(lake['doubled'])).toBe(0);
    const listed = await eventually('every acknowledged line is listed on its invoice', async () => {
      const lines = await listedLines(stack!.apiUrl, stack!.apiKey, acked.values());
      const ids = new Set([...lines.values()].flat());
      return [...acked.keys()].every((id) => ids.has(id)) ? lines : undefined;
    });
    const doubled = [...listed.values()].flatMap((ids) => ids.filter((id, i) => ids.indexOf(id) !== i));
    expect(doubled).toEqual([]);
    const saved = await checkpoints();
    expect(saved).toBeDefined();
    expect(Object.values(saved!).every((v) => typeof v === 'string')).toBe(true);
    const inWarehouse = await warehouseHoldsAcked(acked, vars);
    expect(inWarehouse.size).toBeGreaterThanOrEqual(acked.size);
  });
});

describe('state files at start', () => {
  it('an empty checkpoint file stops `ecomflow up` with one line naming it, and stops PostgreSQL again', async () => {
    // Prepare: what a kill -9 during a write in place used to leave.
    const vars = await stackEnv(home);
    const file = join(home, CHECKPOINTS);
    await writeFile(file, '');

    // Act
    const result = await runCli(['up', '--no-sample'], vars, 90_000);

    // Assess
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('ecomflow up:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${file} is empty`);
    expect(lines[0]).toContain('delete it to process the stream again from its start');
    expect(await readFile(file, 'utf8')).toBe('');
    // PostgreSQL removes its lock file when it stops.
    await expect(stat(join(home, 'warehouse', 'postmaster.pid'))).rejects.toThrow(/ENOENT/);
  });

  it('a spool segment with a torn last line is delivered without it, and the start says so', async () => {
    // Prepare: two whole lines and a third cut by a crash, in the warehouse stream's spool.
    const distinct = new Map(postedRows(20, 11, 7_300_000).lines.map((l) => [l.line_id, l]));
    const lines = [...distinct.values()].slice(0, 3);
    expect(lines).toHaveLength(3);
    const whole = Buffer.concat(lines.slice(0, 2).map((l) => ndjsonRecord(l)));
    const torn = Buffer.from(ndjsonRecord(lines[2])).subarray(0, 30);
    const spool = join(home, FIREHOSE_SPOOL_DIR);
    await mkdir(spool, { recursive: true });
    const segment = join(spool, `${LOCAL_RESOURCES.warehouseDeliveryStream}.1700000000000-000001.ndjson`);
    await writeFile(segment, Buffer.concat([whole, torn]));
    const vars = await stackEnv(home);

    // Act
    stack = await startStackProcess(vars);

    // Assess
    const { stderr } = stack.output();
    expect(stderr).toContain(`${segment}: dropped a torn last line at byte ${whole.length}`);
    const rows = await warehouseQuery(
      `SELECT line_id FROM raw.invoice_lines WHERE line_id IN ('${lines.map((l) => l.line_id).join("', '")}')`,
      vars,
    );
    expect(rows.map((r) => r['line_id']).sort()).toEqual(
      lines
        .slice(0, 2)
        .map((l) => l.line_id)
        .sort(),
    );
  });
});
