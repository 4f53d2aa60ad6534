import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import {
  executeBatch,
  type PollOptions,
  queryRows,
  RedshiftStatementError,
} from '../adapters/redshift-data.js';
import type { RedshiftTarget } from '../config/redshift.js';
import { RefreshError } from './errors.js';
import type { ModelStatement } from './models.js';
import { statementHeadline, type TransactionRunner } from './refresh.js';

/**
 * Runs the refresh on Redshift through the Data API: each transaction is one BatchExecuteStatement, which
 * Redshift runs as a single transaction and rolls back entirely when a statement fails.
 */
export function redshiftRunner(
  client: RedshiftDataClient,
  target: RedshiftTarget,
  poll: PollOptions = {},
): TransactionRunner {
  const name = target.workgroupName ?? target.clusterIdentifier ?? 'redshift';
  return {
    target: `redshift ${name}/${target.database}`,
    queryRows: (sql) => queryRows(client, target, sql, poll),
    async runTransaction(statements: readonly ModelStatement[]): Promise<void> {
      if (statements.length === 0) return;
      try {
        await executeBatch(
          client,
          target,
          statements.map((s) => s.sql),
          { ...poll, name: 'ecomflow-refresh' },
        );
      } catch (cause) {
        const index = cause instanceof RedshiftStatementError ? cause.failedIndex : undefined;
        const failed = index === undefined ? undefined : statements[index];
        const reason = (cause as Error).message;
        if (!failed) {
          throw new RefreshError(`refresh failed on ${name} and was rolled back: ${reason}`, {}, { cause });
        }
        throw new RefreshError(
          `refresh failed on ${name} at ${failed.model} statement ${failed.statement} ` +
            `(${statementHeadline(failed.sql)}) and was rolled back: ${reason}`,
          { model: failed.model, statement: failed.statement },
          { cause },
        );
      }
    },
  };
}
