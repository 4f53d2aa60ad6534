import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { RedshiftTarget } from '../config/redshift.js';
import type { BoundStatement, ErasureWarehouse } from '../erasure/warehouse.js';
import {
  executeBatch,
  executeStatement,
  type PollOptions,
  queryRows,
  REDSHIFT_DATA_LIMITS,
  subStatementRows,
} from './redshift-data.js';

/**
 * The erasure's warehouse on Redshift, through the Data API. The erasure's SQL is PostgreSQL's, with `$n`
 * parameters; the Data API takes named ones (`:name`), each value a non-empty string that Redshift
 * converts to the column's type. The re-keying runs on one session: the temporary table of keys is
 * filled by parameterised INSERTs, then BatchExecuteStatement runs the lock and the UPDATEs as one
 * transaction on the same session, where the table is visible.
 */

/** How long the session outlives its last statement: room for the erasure's steps, not for a forgotten one. */
export const ERASURE_SESSION_KEEP_ALIVE_SECONDS = 600;

/**
 * `$1`, `$2`, … as the Data API's named parameters `:p1`, `:p2`, … with their values as text.
 * @throws RangeError for a value the Data API cannot carry (null, an empty string, an object)
 * @example namedParameters('WHERE a = $1', [7]) // { sql: 'WHERE a = :p1', parameters: { p1: '7' } }
 */
export function namedParameters(
  sql: string,
  params: readonly unknown[] = [],
): { sql: string; parameters: Record<string, string> } {
  const parameters: Record<string, string> = {};
  for (const [i, value] of params.entries()) {
    const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value;
    if (typeof text !== 'string' || text === '') {
      throw new RangeError(`parameter $${i + 1} cannot be sent to the Data API: ${JSON.stringify(value)}`);
    }
    parameters[`p${i + 1}`] = text;
  }
  const named = sql.replace(/\$(\d+)/g, (_, n: string) => {
    if (!(`p${n}` in parameters)) throw new RangeError(`$${n} has no value (${params.length} given)`);
    return `:p${n}`;
  });
  return { sql: named, parameters };
}

export function redshiftErasureWarehouse(
  client: RedshiftDataClient,
  target: RedshiftTarget,
  options: PollOptions = {},
): ErasureWarehouse {
  return {
    async query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
      const named = namedParameters(sql, params);
      return (await queryRows(client, target, named.sql, {
        ...options,
        parameters: named.parameters,
      })) as T[];
    },
    async rekey(prepare: readonly BoundStatement[], transaction: readonly string[]): Promise<number[]> {
      if (transaction.length > REDSHIFT_DATA_LIMITS.maxBatchStatements) {
        throw new RangeError(
          `the transaction has ${transaction.length} statements; BatchExecuteStatement takes ${REDSHIFT_DATA_LIMITS.maxBatchStatements}`,
        );
      }
      let sessionId: string | undefined;
      for (const statement of prepare) {
        const named = namedParameters(statement.sql, statement.params);
        const outcome = await executeStatement(client, target, named.sql, named.parameters, {
          ...options,
          session: { id: sessionId, keepAliveSeconds: ERASURE_SESSION_KEEP_ALIVE_SECONDS },
        });
        sessionId ??= outcome.sessionId;
        if (!sessionId) throw new Error(`the Data API opened no session for statement ${outcome.id}`);
      }
      const batch = await executeBatch(client, target, transaction, {
        ...options,
        session: { id: sessionId, keepAliveSeconds: ERASURE_SESSION_KEEP_ALIVE_SECONDS },
      });
      return subStatementRows(client, batch.id);
    },
  };
}
