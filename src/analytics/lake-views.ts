import { LakeViewError } from './errors.js';
import { findSqlRoot, loadLakeViews, type ViewDefinition } from './models.js';

/**
 * The Athena views, created on DuckDB over the local lake: `ecomflow query` and the tests read the same
 * marts locally as analysts read on Athena.
 *
 * The view files are written in the subset of SQL that Trino (Athena engine 3) and DuckDB read alike, so
 * the text runs unchanged: see glue/README.md, "Dialect differences", for the rules that keep it so and the
 * differences handled outside the SQL text (the table under the views, timestamps, partition types).
 */

/** A text substitution from Athena's dialect to DuckDB's, with the reason, as glue/README.md lists it. */
export interface DialectSubstitution {
  athena: RegExp;
  duckdb: string;
  why: string;
}

/**
 * The substitutions applied to view and query text before DuckDB runs it. None are needed today: the views
 * avoid every construct the two engines spell differently (the lint in tests/analytics enforces it). A
 * construct that cannot be avoided is added here and to the table in glue/README.md; a test checks that
 * the two lists agree.
 */
export const DUCKDB_SUBSTITUTIONS: readonly DialectSubstitution[] = [];

/** Athena SQL as DuckDB runs it: the documented substitutions, in order, and nothing else. */
export function toDuckDb(sql: string): string {
  return DUCKDB_SUBSTITUTIONS.reduce((text, s) => text.replace(s.athena, s.duckdb), sql);
}

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
      await lake.run(toDuckDb(view.createSql));
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
