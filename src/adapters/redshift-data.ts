import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type Field,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { RedshiftTarget } from '../config/redshift.js';
import { EcomflowError } from '../errors.js';
import { sdkRetryStrategy } from './aws.js';

/**
 * Redshift through the Redshift Data API: SQL over HTTPS, with no driver, VPC attachment or connection
 * pool in the Lambda. Statements run asynchronously: a call returns an id, and DescribeStatement is polled
 * until the statement finishes.
 */

export const REDSHIFT_DATA_LIMITS = {
  /** BatchExecuteStatement takes at most 40 statements, run as one transaction. */
  maxBatchStatements: 40,
} as const;

export interface PollOptions {
  /** First wait between DescribeStatement calls; it grows by half each time up to `maxIntervalMs`. */
  intervalMs?: number;
  maxIntervalMs?: number;
  /** Give up (and cancel the statement) after this long. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const POLL_DEFAULTS = { intervalMs: 250, maxIntervalMs: 5_000, timeoutMs: 600_000 } as const;

/** A statement (or batch) that failed, was aborted, or did not finish in time. */
export class RedshiftStatementError extends EcomflowError {
  /** The Data API's statement id, for the console and SYS_QUERY_HISTORY. */
  readonly statementId: string;
  readonly status: string;
  /** For a batch: index (0-based) of the statement that failed, when Redshift says which. */
  readonly failedIndex: number | undefined;
  constructor(
    statementId: string,
    status: string,
    failedIndex: number | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super('warehouse_statement_failed', message, options);
    this.name = 'RedshiftStatementError';
    this.statementId = statementId;
    this.status = status;
    this.failedIndex = failedIndex;
  }
}

/** A Data API client; the region comes from the Lambda environment unless given. Create it once. */
export function createRedshiftDataClient(aws: { region?: string | undefined } = {}): RedshiftDataClient {
  return new RedshiftDataClient({
    ...(aws.region ? { region: aws.region } : {}),
    retryStrategy: sdkRetryStrategy(),
  });
}

/** The connection parameters every Data API call takes. */
function targetParams(target: RedshiftTarget) {
  if (Boolean(target.workgroupName) === Boolean(target.clusterIdentifier)) {
    throw new Error(
      `Redshift target needs exactly one of workgroupName and clusterIdentifier, got ${JSON.stringify({
        workgroupName: target.workgroupName,
        clusterIdentifier: target.clusterIdentifier,
      })}`,
    );
  }
  return {
    Database: target.database,
    SecretArn: target.secretArn,
    ...(target.workgroupName ? { WorkgroupName: target.workgroupName } : {}),
    ...(target.clusterIdentifier ? { ClusterIdentifier: target.clusterIdentifier } : {}),
  };
}

/**
 * A Data API session: the first call of a session opens it (`keepAliveSeconds`, on the target) and returns
 * its id; later calls name only the id, and run on the same connection, so a temporary table made by one
 * is seen by the next. A session closes `keepAliveSeconds` after its last statement (at most 24 hours).
 */
export interface SessionOptions {
  /** The session to run on; unset, the call opens one when `keepAliveSeconds` is given. */
  id?: string | undefined;
  keepAliveSeconds?: number;
}

/** Where a call runs: on the target, opening a session when asked, or on a session already open. */
function placement(target: RedshiftTarget, session: SessionOptions | undefined) {
  if (session?.id) return { SessionId: session.id };
  return {
    ...targetParams(target),
    ...(session?.keepAliveSeconds ? { SessionKeepAliveSeconds: session.keepAliveSeconds } : {}),
  };
}

export interface StatementOutcome {
  id: string;
  /** The session the statement ran on, when it ran on one. */
  sessionId?: string | undefined;
  /** Rows affected (or returned) by the last statement; -1 when Redshift does not say. */
  resultRows: number;
  /** Server-side run time in milliseconds. */
  durationMs: number;
}

/**
 * Runs statements as one transaction with BatchExecuteStatement and waits for the outcome. If any fails,
 * Redshift rolls all of them back.
 *
 * @throws RedshiftStatementError naming the failed statement's index, or on timeout (after cancelling)
 * @example await executeBatch(client, { database: 'dev', secretArn, workgroupName: 'ecomflow' }, sqls)
 */
export async function executeBatch(
  client: RedshiftDataClient,
  target: RedshiftTarget,
  sqls: readonly string[],
  options: PollOptions & { name?: string; session?: SessionOptions } = {},
): Promise<StatementOutcome> {
  if (sqls.length === 0 || sqls.length > REDSHIFT_DATA_LIMITS.maxBatchStatements) {
    throw new RangeError(
      `a batch takes 1 to ${REDSHIFT_DATA_LIMITS.maxBatchStatements} statements, not ${sqls.length}`,
    );
  }
  const started = await client.send(
    new BatchExecuteStatementCommand({
      ...placement(target, options.session),
      Sqls: [...sqls],
      ...(options.name ? { StatementName: options.name } : {}),
    }),
  );
  return { ...(await waitFor(client, started.Id!, options)), sessionId: started.SessionId };
}

/**
 * Runs one statement, with optional named parameters (`:name` in the SQL), and waits for it.
 * @throws RedshiftStatementError when it fails or times out
 */
export async function executeStatement(
  client: RedshiftDataClient,
  target: RedshiftTarget,
  sql: string,
  parameters: Record<string, string> = {},
  options: PollOptions & { name?: string; session?: SessionOptions } = {},
): Promise<StatementOutcome> {
  const entries = Object.entries(parameters);
  const started = await client.send(
    new ExecuteStatementCommand({
      ...placement(target, options.session),
      Sql: sql,
      ...(entries.length ? { Parameters: entries.map(([name, value]) => ({ name, value })) } : {}),
      ...(options.name ? { StatementName: options.name } : {}),
    }),
  );
  return { ...(await waitFor(client, started.Id!, options)), sessionId: started.SessionId };
}

/**
 * Runs one query and returns its rows as objects, numbers and decimals as Redshift sends them (a DECIMAL
 * comes back as text, exact), following GetStatementResult's pages.
 * @throws RedshiftStatementError when it fails or times out
 */
export async function queryRows(
  client: RedshiftDataClient,
  target: RedshiftTarget,
  sql: string,
  options: PollOptions & { parameters?: Record<string, string>; session?: SessionOptions } = {},
): Promise<Record<string, string | number | boolean | null>[]> {
  const { id } = await executeStatement(client, target, sql, options.parameters ?? {}, options);
  const rows: Record<string, string | number | boolean | null>[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new GetStatementResultCommand({ Id: id, NextToken: token }));
    const names = (page.ColumnMetadata ?? []).map((c) => c.name ?? c.label ?? '');
    for (const record of page.Records ?? []) {
      rows.push(Object.fromEntries(names.map((name, i) => [name, fieldValue(record[i])])));
    }
    token = page.NextToken;
  } while (token);
  return rows;
}

function fieldValue(field: Field | undefined): string | number | boolean | null {
  if (!field || field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  return null;
}

/**
 * Rows each statement of a finished batch affected (COPY: rows loaded; INSERT: rows inserted), in order;
 * -1 where Redshift does not say.
 */
export async function subStatementRows(client: RedshiftDataClient, id: string): Promise<number[]> {
  const described = await client.send(new DescribeStatementCommand({ Id: id }));
  return (described.SubStatements ?? []).map((s) => s.ResultRows ?? -1);
}

/** Polls DescribeStatement with a growing interval until the statement is done. */
async function waitFor(
  client: RedshiftDataClient,
  id: string,
  options: PollOptions,
): Promise<StatementOutcome> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? POLL_DEFAULTS.timeoutMs;
  const maxInterval = options.maxIntervalMs ?? POLL_DEFAULTS.maxIntervalMs;
  let interval = options.intervalMs ?? POLL_DEFAULTS.intervalMs;
  const deadline = now() + timeoutMs;
  for (;;) {
    const d = await client.send(new DescribeStatementCommand({ Id: id }));
    switch (d.Status) {
      case 'FINISHED':
        return { id, resultRows: d.ResultRows ?? -1, durationMs: Math.round((d.Duration ?? 0) / 1e6) };
      case 'FAILED':
      case 'ABORTED':
        throw failure(id, d);
    }
    if (now() >= deadline) {
      // The statement would go on running on Redshift; stop it so that a retry does not race it.
      await client.send(new CancelStatementCommand({ Id: id })).catch(() => undefined);
      throw new RedshiftStatementError(
        id,
        d.Status ?? 'UNKNOWN',
        undefined,
        `Redshift statement ${id} did not finish within ${timeoutMs} ms (status ${d.Status}); cancelled`,
      );
    }
    await sleep(interval);
    interval = Math.min(maxInterval, Math.round(interval * 1.5));
  }
}

function failure(id: string, d: DescribeStatementResponse): RedshiftStatementError {
  const subs = d.SubStatements ?? [];
  const index = subs.findIndex((s) => s.Status === 'FAILED' || s.Status === 'ABORTED');
  const failed = index >= 0 ? subs[index] : undefined;
  const reason = failed?.Error ?? d.Error ?? 'no error message';
  const which = failed ? ` (statement ${index + 1} of ${subs.length})` : '';
  return new RedshiftStatementError(
    id,
    d.Status ?? 'FAILED',
    index >= 0 ? index : undefined,
    `Redshift statement ${id} ${d.Status === 'ABORTED' ? 'was aborted' : 'failed'}${which}: ${reason}`,
  );
}
