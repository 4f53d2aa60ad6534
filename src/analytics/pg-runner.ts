import { RefreshError } from './errors.js';
import type { ModelStatement } from './models.js';
import { statementHeadline, type TransactionRunner } from './refresh.js';

/** What the runner needs of `PgWarehouse` (src/adapters/pg-warehouse.ts). */
export interface SqlQuery {
  query(sql: string): Promise<Record<string, unknown>[]>;
}

const SEPARATOR = ';\n';

/**
 * Runs the refresh on a PostgreSQL-protocol warehouse through `PgWarehouse.query`.
 *
 * The statements go in one simple-protocol query: PostgreSQL runs a multi-statement query as one implicit
 * transaction, committed at the end and rolled back entirely on an error, which is the all-or-nothing a
 * refresh needs, on a pooled connection, with no BEGIN/COMMIT to leak if the client dies in between.
 * PostgreSQL's error position (an offset in the query text) tells which statement failed.
 *
 * @example await refreshWarehouse(pgRunner(new PgWarehouse(url), redactUrl(url)))
 */
export function pgRunner(warehouse: SqlQuery, target: string): TransactionRunner {
  return {
    target,
    queryRows: (sql) => warehouse.query(sql),
    async runTransaction(statements: readonly ModelStatement[]): Promise<void> {
      if (statements.length === 0) return;
      const starts: number[] = [];
      let text = '';
      for (const s of statements) {
        if (text) text += SEPARATOR;
        starts.push(text.length);
        text += s.sql;
      }
      try {
        await warehouse.query(text);
      } catch (cause) {
        const position = Number((cause as { position?: unknown }).position);
        const failed = Number.isInteger(position) ? statementAt(statements, starts, position - 1) : undefined;
        const reason = (cause as Error).message;
        if (!failed) {
          throw new RefreshError(`refresh failed on ${target} and was rolled back: ${reason}`, {}, { cause });
        }
        throw new RefreshError(
          `refresh failed on ${target} at ${failed.model} statement ${failed.statement} ` +
            `(${statementHeadline(failed.sql)}) and was rolled back: ${reason}`,
          { model: failed.model, statement: failed.statement },
          { cause },
        );
      }
    },
  };
}

function statementAt(
  statements: readonly ModelStatement[],
  starts: readonly number[],
  offset: number,
): ModelStatement | undefined {
  let found: ModelStatement | undefined;
  starts.forEach((start, i) => {
    if (offset >= start) found = statements[i];
  });
  return found;
}

/**
 * A connection string without its password, fit for messages and logs.
 * @example redactUrl('postgres://ecomflow:secret@127.0.0.1:5433/ecomflow') === 'postgres://ecomflow@127.0.0.1:5433/ecomflow'
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString().replace(/:@/, '@');
  } catch {
    return '<warehouse>';
  }
}
