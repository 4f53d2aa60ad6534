import { LakeViewError } from './errors.js';
import { findSqlRoot, loadLakeViews, type ViewDefinition } from './models.js';

/**
 * The Athena views, created on DuckDB over the local lake: `ecomflow query` and the tests read the same
 * marts locally as analysts read on Athena.
 *
 * The view files are written in the subset of SQL that Trino (Athena engine 3) and DuckDB read alike, so
 * the text runs unchanged, with no translation: see glue/README.md, "Dialect differences", for the rules
 * that keep it so (tests/analytics/dialect.test.ts lints them) and the differences handled outside the SQL
 * text (the table under the views, timestamps, partition types).
 */

/** Anything that runs a statement on DuckDB, such as `LocalLake` (src/local/lake.ts). */
export interface DuckDbRunner {
  run(sql: string): Promise<void>;
}

/**
 * Creates (or replaces) every lake view on a DuckDB connection that already has a table or view
 * `invoice_lines` with the Glue table's columns. Returns the view names, in creation order.
 *
 * @throws LakeViewError naming the view DuckDB refused
 * @example
 * const lake = await LocalLake.open(info.lakeGlob);
 * await createLakeViews(lake);
 * await lake.query('SELECT * FROM top_products ORDER BY rank');
 */
export async function createLakeViews(
  lake: DuckDbRunner,
  views?: readonly ViewDefinition[],
): Promise<string[]> {
  const definitions = views ?? (await loadLakeViews(findSqlRoot()));
  for (const view of definitions) {
    try {
      await lake.run(view.createSql);
    } catch (cause) {
      throw new LakeViewError(
        view.name,
        `DuckDB refused the view ${view.name}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  return definitions.map((v) => v.name);
}
