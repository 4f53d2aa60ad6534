import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { EcomflowError } from '../errors.js';
import { sdkRetryStrategy } from './aws.js';

/** Where a query runs: the stack's workgroup (its results location and limits) and the Glue database. */
export interface AthenaTarget {
  workGroup: string;
  database: string;
}

/** A query that failed, was cancelled, or did not finish in time. */
export class AthenaQueryError extends EcomflowError {
  constructor(
    readonly queryExecutionId: string,
    readonly state: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super('lake_query_failed', message, options);
    this.name = 'AthenaQueryError';
  }
}

/** An Athena client; the region comes from the Lambda environment unless given. Create it once. */
export function createAthenaClient(aws: { region?: string | undefined } = {}): AthenaClient {
  return new AthenaClient({
    ...(aws.region ? { region: aws.region } : {}),
    retryStrategy: sdkRetryStrategy(),
  });
}

export interface AthenaPollOptions {
  intervalMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Runs one query and returns its rows as objects of text (Athena's results are strings; NULL is null).
 * StartQueryExecution, then GetQueryExecution until SUCCEEDED, then GetQueryResults page by page; the
 * first row of a SELECT's results is its header.
 *
 * @throws AthenaQueryError naming the query execution when it fails or times out (after stopping it)
 */
export async function athenaQuery(
  client: AthenaClient,
  target: AthenaTarget,
  sql: string,
  options: AthenaPollOptions = {},
): Promise<Record<string, string | null>[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 300_000);
  const started = await client.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: target.workGroup,
      QueryExecutionContext: { Database: target.database },
    }),
  );
  const id = started.QueryExecutionId!;
  for (;;) {
    const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = QueryExecution?.Status?.State ?? 'UNKNOWN';
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaQueryError(
        id,
        state,
        `Athena query ${id} ${state.toLowerCase()}: ${QueryExecution?.Status?.StateChangeReason ?? 'no reason given'}`,
      );
    }
    if (now() >= deadline) {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new AthenaQueryError(
        id,
        state,
        `Athena query ${id} did not finish in time (state ${state}); stopped`,
      );
    }
    await sleep(options.intervalMs ?? 500);
  }
  const rows: Record<string, string | null>[] = [];
  let header: string[] | undefined;
  let token: string | undefined;
  do {
    const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }));
    for (const row of page.ResultSet?.Rows ?? []) {
      const values = (row.Data ?? []).map((d) => d.VarCharValue ?? null);
      if (!header) {
        header = values.map((v) => v ?? '');
        continue;
      }
      rows.push(Object.fromEntries(header.map((name, i) => [name, values[i] ?? null])));
    }
    token = page.NextToken;
  } while (token);
  return rows;
}
