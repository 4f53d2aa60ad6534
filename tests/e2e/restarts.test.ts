/**
 * Twenty SIGKILLs of the local stack during a load, each followed by a restart: the poller's checkpoint
 * is never lost (after every kill it is valid and no shard's position has gone back), and what the kills
 * make the stack process again is bounded. The event source mapping, like the local poller, checkpoints
 * after each batch, so a kill repeats at most the batch each shard had in hand: the raw tables of the lake
 * and the warehouse (which keep every copy; the views count each line once) may grow by at most the lines
 * of the next batch after each kill's checkpoint, shard by shard, read back from the stream itself on the
 * restart, before the next round posts anything.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { jest } from '@jest/globals';
import { createKinesisClient } from '../../src/adapters/kinesis.js';
import { LOCAL_RESOURCES, STACK_VARIABLES } from '../../src/config/local.js';
import { generateCsv } from '../../src/core/generate.js';
import { decodeRecord } from '../../src/stream/envelope.js';
import {
  countLines,
  lakeMissingAcked,
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
  type StackProcess,
  stackEnv,
  startStackProcess,
  warehouseQuery,
} from '../helpers/stack-process.js';

jest.setTimeout(600_000);

const KILLS = 20;
/** Rows each round posts; the kill comes once KILL_AFTER_ACKED of them are acknowledged. */
const ROUND_ROWS = 1_500;
const KILL_AFTER_ACKED = 400;
/**
 * The stack's event source batch size here. At the default (500 records, each an invoice's lines of one
 * request) one batch holds more lines than a round posts, so a bound of a batch a kill would not tell a
 * kept checkpoint from a lost one; at 10 records it does (the last assertion checks that).
 */
const BATCH_SIZE = 10;
/** The poller's checkpoint file in the state folder (src/local/stack.ts). */
const CHECKPOINTS = 'poller-checkpoints.json';

let home: string;
let stack: StackProcess | undefined;
let replay: ReplayProcess | undefined;

beforeEach(async () => {
  home = await makeHome();
});
afterEach(async () => {
  replay?.child.kill('SIGKILL');
  await cleanUp(stack, home);
});

/** One CSV per round, each with the header and rows no other round has (exact repeats left out). */
async function roundFiles(): Promise<string[]> {
  const [header, ...rows] = [...generateCsv({ rows: KILLS * ROUND_ROWS + 2_000, seed: 21 })];
  const distinct = [...new Set(rows)];
  return Promise.all(
    Array.from({ length: KILLS }, async (_, k) => {
      const file = join(home, `round-${k}.csv`);
      await writeFile(
        file,
        `${[header, ...distinct.slice(k * ROUND_ROWS, (k + 1) * ROUND_ROWS)].join('\n')}\n`,
      );
      return file;
    }),
  );
}

/** The checkpoint file as it is: parsed, or why it is not a valid checkpoint (undefined while there is none). */
async function readCheckpoints(): Promise<Record<string, string> | undefined> {
  const text = await readFile(join(home, CHECKPOINTS), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as Record<string, unknown>;
  for (const [shard, sequence] of Object.entries(parsed)) {
    if (typeof sequence !== 'string') throw new Error(`${CHECKPOINTS}: ${shard} is not a sequence number`);
  }
  return parsed as Record<string, string>;
}

/**
 * The most lines a restart after `checkpoint` can process again: per shard, the lines of the one batch the
 * poller reads next (GetRecords with the event source's batch size, after the checkpoint), as it would.
 */
async function nextBatchLines(
  vars: Record<string, string>,
  checkpoint: Record<string, string> | undefined,
): Promise<number> {
  const kinesis = createKinesisClient({
    region: LOCAL_RESOURCES.region,
    endpoints: { kinesis: `http://127.0.0.1:${vars[STACK_VARIABLES.kinesis]}` },
  });
  try {
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: LOCAL_RESOURCES.stream }));
    let lines = 0;
    for (const { ShardId } of Shards) {
      const after = checkpoint?.[ShardId!];
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: LOCAL_RESOURCES.stream,
          ShardId: ShardId!,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      const { Records = [] } = await kinesis.send(
        new GetRecordsCommand({ ShardIterator, Limit: BATCH_SIZE }),
      );
      for (const record of Records) lines += decodeRecord(record.Data!).lines.length;
    }
    return lines;
  } finally {
    kinesis.destroy();
  }
}

/** Rows and distinct line ids of a raw table. */
function copies(row: Record<string, unknown> | undefined): { rows: number; ids: number } {
  return { rows: Number(row!['rows']), ids: Number(row!['ids']) };
}

describe(`${KILLS} SIGKILLs during a load, each followed by a restart`, () => {
  it('never loses the checkpoint, and the raw tables grow by at most the batch each kill interrupted', async () => {
    // Prepare
    const vars = await stackEnv(home, { [STACK_VARIABLES.streamBatchSize]: String(BATCH_SIZE) });
    const files = await roundFiles();
    const ackLog = join(home, 'acked.tsv');
    const afterKills: (Record<string, string> | undefined)[] = [];
    /** Per kill, the lines of the batch after its checkpoint, read on restart before any new row is posted. */
    const repeatable: number[] = [];

    // Act: each round starts the stack, loads new rows into it, and kills it mid-load.
    for (const file of files) {
      stack = await startStackProcess(vars);
      if (afterKills.length > 0) repeatable.push(await nextBatchLines(vars, afterKills.at(-1)));
      const before = await countLines(ackLog);
      replay = startReplay(file, ackLog, 2_000, vars);
      await eventually(`the replay of ${file} has ${KILL_AFTER_ACKED} acknowledged rows`, async () =>
        (await countLines(ackLog)) >= before + KILL_AFTER_ACKED ? true : undefined,
      );
      await stack.stop('SIGKILL');
      afterKills.push(await readCheckpoints());
      await replay.exited;
    }
    stack = await startStackProcess(vars);
    repeatable.push(await nextBatchLines(vars, afterKills.at(-1)));
    const acked = await readAckLog(ackLog);
    await lakeMissingAcked(ackLog, vars, 120_000);
    await warehouseHoldsAcked(acked, vars);
    // Every copy has landed once nothing is left to process: the raw counts stop moving.
    let last = '';
    const [lake, warehouse] = await eventually(
      'the raw tables stop growing',
      async () => {
        const counts = [
          copies(
            (
              await lakeQuery(
                'SELECT count(*) AS rows, count(DISTINCT line_id) AS ids FROM invoice_lines_raw',
                vars,
              )
            )[0],
          ),
          copies(
            (
              await warehouseQuery(
                'SELECT count(*) AS rows, count(DISTINCT line_id) AS ids FROM raw.invoice_lines',
                vars,
              )
            )[0],
          ),
        ];
        const now = JSON.stringify(counts);
        const settled = now === last;
        last = now;
        return settled ? counts : undefined;
      },
      60_000,
      3_000,
    );
    const bound = repeatable.reduce((sum, n) => sum + n, 0);

    // Assess: the checkpoint was readable after every kill, and no shard ever went back.
    expect(afterKills.slice(1).every((c) => c !== undefined)).toBe(true);
    for (let k = 1; k < afterKills.length; k++) {
      for (const [shard, sequence] of Object.entries(afterKills[k - 1] ?? {})) {
        expect(BigInt(afterKills[k]![shard]!)).toBeGreaterThanOrEqual(BigInt(sequence));
      }
    }
    // Every acknowledged row was posted once, so every extra copy in a raw table is a repeat after a kill.
    expect(acked.size).toBe(await countLines(ackLog));
    expect(acked.size).toBeGreaterThanOrEqual(KILLS * KILL_AFTER_ACKED);
    expect(lake!.ids).toBeGreaterThanOrEqual(acked.size);
    expect(warehouse!.ids).toBe(lake!.ids);
    expect(lake!.rows - lake!.ids).toBeLessThanOrEqual(bound);
    expect(warehouse!.rows - warehouse!.ids).toBeLessThanOrEqual(bound);
    // The bound is what one batch a shard holds, not the stream: a lost checkpoint would pass it.
    expect(bound).toBeLessThan(lake!.ids);
    process.stdout.write(
      `restarts: ${acked.size} acknowledged lines, ${lake!.ids} stored; repeats lake ${lake!.rows - lake!.ids}, warehouse ${warehouse!.rows - warehouse!.ids}; bound ${bound}\n`,
    );
  });
});
