import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';

/** A command as the fake sees it: its class name and its input. */
export interface SentCommand {
  name: string;
  input: Record<string, unknown>;
}

/**
 * A stand-in for the Data API client: records every command and answers DescribeStatement from a script
 * of responses, one per call (the last one repeats), and GetStatementResult with `result` (one page), or
 * an empty result set.
 */
export function fakeRedshiftData(describe: Record<string, unknown>[], result?: Record<string, unknown>) {
  const sent: SentCommand[] = [];
  let describes = 0;
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      if (name === 'BatchExecuteStatementCommand' || name === 'ExecuteStatementCommand')
        return { Id: 'stmt-1' };
      if (name === 'DescribeStatementCommand') {
        const answer = describe[Math.min(describes, describe.length - 1)]!;
        describes++;
        return { Id: 'stmt-1', ...answer };
      }
      if (name === 'CancelStatementCommand') return { Status: true };
      // An empty result set when none is scripted (the refresh's look at the marts' columns, say).
      if (name === 'GetStatementResultCommand') return result ?? { ColumnMetadata: [], Records: [] };
      throw new Error(`unexpected command ${name}`);
    },
  };
  return { client: client as unknown as RedshiftDataClient, sent };
}

/** Sleeps recorded, not slept. */
export function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}
