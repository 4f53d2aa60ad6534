/**
 * The stack's own compaction timer, which runs on a thread of its own (src/local/compaction-worker.ts):
 * the same lines delivered twice, in two Firehose batches, become one object a day with each line once,
 * without `ecomflow compact`, and a stop waits for it and ends cleanly.
 */
import { jest } from '@jest/globals';
import { LAKE_RAW_TABLE } from '../../src/analytics/models.js';
import { STACK_VARIABLES } from '../../src/config/local.js';
import { postedRows } from '../helpers/posted-rows.js';
import {
  cleanUp,
  eventually,
  lakeQuery,
  makeHome,
  type StackProcess,
  stackEnv,
  startStackProcess,
} from '../helpers/stack-process.js';

jest.setTimeout(120_000);

let home: string;
let stack: StackProcess | undefined;

beforeEach(async () => {
  home = await makeHome();
});
afterEach(async () => {
  await cleanUp(stack, home);
});

describe("the stack's compaction timer", () => {
  it('compacts what two deliveries wrote into one object a day, each line once, on its own', async () => {
    // Prepare: a compaction every second; the stack's Firehose buffers 200 ms (stackEnv).
    const vars = await stackEnv(home, { [STACK_VARIABLES.compactIntervalMs]: '1000' });
    stack = await startStackProcess(vars);
    const rows = postedRows(300, 31, 8_100_000);
    const post = () =>
      fetch(`${stack!.apiUrl}/ingest`, {
        method: 'POST',
        headers: { 'x-api-key': stack!.apiKey, 'content-type': 'text/csv' },
        body: rows.csv,
      });
    const inList = `invoice_no IN (${rows.invoiceList})`;
    const stored = async () => {
      const [row] = await lakeQuery(
        `SELECT count(*) AS n, count(DISTINCT line_id) AS d, count(DISTINCT filename) AS files, count(DISTINCT invoice_date::DATE) AS days FROM read_parquet('${home}/s3/**/*.parquet._S3rver_object', filename = true) WHERE ${inList}`,
        vars,
      );
      return {
        n: Number(row!['n']),
        d: Number(row!['d']),
        files: Number(row!['files']),
        days: Number(row!['days']),
      };
    };

    // Act: the same body twice, far enough apart to be two deliveries.
    expect((await post()).status).toBe(202);
    await eventually('the first delivery is in the lake', async () =>
      (await stored()).d === rows.distinct ? true : undefined,
    );
    expect((await post()).status).toBe(202);
    const compacted = await eventually(
      'the timer has compacted both deliveries',
      async () => {
        const now = await stored();
        return now.n === rows.distinct &&
          now.files === now.days &&
          stack!.output().stderr.includes('compacted')
          ? now
          : undefined;
      },
      60_000,
      500,
    );
    const stopCode = await stack.stop('SIGINT');

    // Assess
    expect(compacted).toEqual({
      n: rows.distinct,
      d: rows.distinct,
      files: compacted.days,
      days: compacted.days,
    });
    expect(stack.output().stderr).toMatch(
      /compacted \d+ day\(s\) of the lake: \d+ objects to \d+, \d+ duplicate lines dropped/,
    );
    expect(stopCode).toBe(0);
    const [raw] = await lakeQuery(`SELECT count(*) AS n FROM ${LAKE_RAW_TABLE} WHERE ${inList}`, vars);
    expect(Number(raw!['n'])).toBe(rows.distinct);
  });
});
