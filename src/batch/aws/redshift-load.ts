import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { mergeLoadTableSql } from '../../adapters/pg-warehouse.js';
import { executeBatch, type PollOptions, subStatementRows } from '../../adapters/redshift-data.js';
import type { RedshiftTarget } from '../../config/redshift.js';
import { createLineTableSql } from '../../core/schema.js';

/**
 * What the AWS batch path's load step needs from Redshift: a bulk COPY of the parts, then the merge by
 * line_id. (The local path loads through PgWarehouse instead.)
 */
export interface RedshiftLoader {
  /** Where it loads, for the status (`redshift ecomflow/dev`). */
  readonly target: string;
  /**
   * COPYs the parts listed in the manifest into `loadTable`, then inserts into raw.invoice_lines the lines
   * whose line_id it does not hold yet, and drops the load table. Running it again inserts nothing.
   */
  copyAndMerge(load: RedshiftLoad): Promise<{ copied: number; inserted: number }>;
}

export interface RedshiftLoad {
  /** `s3://<bucket>/loads/<sourceId>/copy.manifest`. */
  manifestUrl: string;
  /** A table in schema raw, e.g. `"raw".load_<sourceId>` (the local path names its load table the same). */
  loadTable: string;
}

function quoted(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The first transaction: a fresh load table, filled by one COPY from the manifest. COPY of Parquet reads
 * the columns by position, and the parts are written in contract order, as the table is created.
 * @example copyStatements({ manifestUrl: 's3://raw/loads/ab/copy.manifest', loadTable: '"raw".load_ab' }, roleArn)
 */
export function copyStatements(load: RedshiftLoad, copyRoleArn: string): string[] {
  return [
    `DROP TABLE IF EXISTS ${load.loadTable}`,
    createLineTableSql(load.loadTable),
    `COPY ${load.loadTable} FROM ${quoted(load.manifestUrl)} IAM_ROLE ${quoted(copyRoleArn)} FORMAT AS PARQUET MANIFEST`,
  ];
}

/** The second transaction: the merge shared with the local warehouse, then the load table goes. */
export function mergeStatements(load: RedshiftLoad): string[] {
  return [mergeLoadTableSql(load.loadTable), `DROP TABLE ${load.loadTable}`];
}

/**
 * Loads through the Redshift Data API, in two transactions (two BatchExecuteStatement calls): COPY into a
 * load table, then merge. Keeping the COPY out of the merge's transaction keeps that transaction short:
 * it reads and writes raw.invoice_lines, which Firehose COPYs into every few minutes, and Redshift aborts
 * one of two overlapping transactions that would not serialise (the state machine retries the step; both
 * transactions are idempotent).
 */
export function redshiftLoader(
  client: RedshiftDataClient,
  target: RedshiftTarget,
  copyRoleArn: string,
  poll: PollOptions = {},
): RedshiftLoader {
  const name = target.workgroupName ?? target.clusterIdentifier ?? 'redshift';
  return {
    target: `redshift ${name}/${target.database}`,
    async copyAndMerge(load) {
      const copy = await executeBatch(client, target, copyStatements(load, copyRoleArn), {
        ...poll,
        name: 'ecomflow-batch-copy',
      });
      const copied = (await subStatementRows(client, copy.id))[2] ?? -1;
      const merge = await executeBatch(client, target, mergeStatements(load), {
        ...poll,
        name: 'ecomflow-batch-merge',
      });
      const inserted = (await subStatementRows(client, merge.id))[0] ?? -1;
      return { copied, inserted };
    },
  };
}
