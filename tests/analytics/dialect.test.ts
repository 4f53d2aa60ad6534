/**
 * The SQL's portability, without the engines we cannot run here: the Athena views and queries must parse
 * in Trino's dialect (node-sql-parser's `trino` grammar), the warehouse SQL in Redshift's and
 * PostgreSQL's, and all of it must pass the portability rules for constructs those grammars accept
 * anyway. DuckDB runs the Athena text through exactly the substitutions glue/README.md documents.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import NodeSqlParser from 'node-sql-parser';
import { createLakeViews } from '../../src/analytics/lake-views.js';
import {
  FULL_REBUILD_SQL,
  findSqlRoot,
  loadLakeQueries,
  loadLakeViews,
  loadWarehouseStatements,
} from '../../src/analytics/models.js';
import { LAKE_RULES, lintSql, WAREHOUSE_RULES } from '../../src/analytics/portability.js';
import { REFRESH_LOCK_SQL } from '../../src/analytics/refresh.js';

const root = findSqlRoot();
const parser = new NodeSqlParser.Parser();

function parses(sql: string, database: 'trino' | 'redshift' | 'postgresql'): string | null {
  try {
    parser.astify(sql, { database });
    return null;
  } catch (err) {
    return (err as Error).message.slice(0, 300);
  }
}

const views = await loadLakeViews(root);
const queries = await loadLakeQueries(root);
const statements = [
  ...(await loadWarehouseStatements(root)),
  { model: 'refresh', statement: 1, sql: REFRESH_LOCK_SQL },
  ...FULL_REBUILD_SQL.map((sql, i) => ({ model: 'refresh', statement: i + 2, sql })),
];

describe("Athena views and queries in Trino's dialect", () => {
  it.each(views.map((v) => [v.name, v.createSql]))('view %s parses as Trino', (_name, sql) => {
    expect(parses(sql, 'trino')).toBeNull();
  });

  it.each(queries.map((q) => [q.name, q.sql]))('named query %s parses as Trino', (_name, sql) => {
    expect(parses(sql, 'trino')).toBeNull();
  });

  it('is a grammar that can fail: it rejects broken SQL', () => {
    expect(parses('SELECT day, FROM daily_revenue', 'trino')).not.toBeNull();
    expect(parses('SELECT COUNT( FROM daily_revenue', 'trino')).not.toBeNull();
  });

  it.each([...views.map((v) => [v.name, v.createSql]), ...queries.map((q) => [q.name, q.sql])])(
    '%s keeps to the constructs Trino and DuckDB share',
    (_name, sql) => {
      expect(lintSql(sql, LAKE_RULES)).toEqual([]);
    },
  );
});

describe('warehouse SQL in the dialects of Redshift and PostgreSQL', () => {
  it.each(statements.map((s) => [`${s.model} #${s.statement}`, s.sql]))(
    '%s parses as Redshift',
    (_n, sql) => {
      expect(parses(sql, 'redshift')).toBeNull();
    },
  );

  it.each(statements.map((s) => [`${s.model} #${s.statement}`, s.sql]))(
    '%s parses as PostgreSQL',
    (_n, sql) => {
      expect(parses(sql, 'postgresql')).toBeNull();
    },
  );

  it.each(statements.map((s) => [`${s.model} #${s.statement}`, s.sql]))(
    '%s keeps to the constructs Redshift and PostgreSQL share',
    (_n, sql) => {
      expect(lintSql(sql, WAREHOUSE_RULES)).toEqual([]);
    },
  );
});

describe('the portability rules', () => {
  it.each([
    ['SELECT DISTINCT ON (line_id) * FROM "raw".invoice_lines', 'distinct-on'],
    ['INSERT INTO t SELECT 1 ON CONFLICT DO NOTHING', 'on-conflict'],
    ['TRUNCATE staging.invoice_lines', 'truncate'],
    ['SELECT invoice_date::date FROM t', 'cast-operator'],
    ['SELECT * FROM raw.invoice_lines', 'unquoted-raw'],
    ['SELECT DATEDIFF(day, a, b) FROM t', 'redshift-only-function'],
    ['SELECT COUNT(*) FILTER (WHERE x) FROM t', 'postgres-only-syntax'],
    ['CREATE TABLE t (a INT) DISTKEY(a)', 'redshift-table-attributes'],
    ['BEGIN;\nDELETE FROM t', 'transaction-control'],
  ])('flag %s in the warehouse SQL', (sql, rule) => {
    expect(lintSql(sql, WAREHOUSE_RULES).map((v) => v.rule)).toContain(rule);
  });

  it.each([
    ["SELECT date_add('month', -1, d) FROM t", 'date-add'],
    ["SELECT d - INTERVAL '1' DAY FROM t", 'interval'],
    ['SELECT `day` FROM t', 'backtick'],
    ['SELECT * FROM t QUALIFY ROW_NUMBER() OVER () = 1', 'qualify'],
    ["SELECT strftime(d, '%Y') FROM t", 'engine-only-function'],
    ['SELECT a // b FROM t', 'integer-division-operator'],
    ['SELECT * FROM t WHERE d < current_date', 'clock'],
  ])('flag %s in the lake SQL', (sql, rule) => {
    expect(lintSql(sql, LAKE_RULES).map((v) => v.rule)).toContain(rule);
  });

  it.each([
    "SELECT CAST(d AS TIMESTAMP) + INTERVAL '11' DAY FROM t",
    "SELECT CAST(d AS TIMESTAMP) - INTERVAL '1' DAY FROM t",
  ])('allow %s, a TIMESTAMP on both engines', (sql) => {
    expect(lintSql(sql, LAKE_RULES)).toEqual([]);
  });

  it.each([
    "SELECT CAST(d AS DATE) + INTERVAL '1' DAY FROM t",
    "SELECT CAST(d AS TIMESTAMP) + INTERVAL '1' MONTH FROM t",
    "SELECT CAST(d AS TIMESTAMP) + INTERVAL '1 day' FROM t",
  ])('flag %s, which the engines read differently', (sql) => {
    expect(lintSql(sql, LAKE_RULES).map((v) => v.rule)).toContain('interval');
  });

  it('ignores what comments say and reports the line of the code', () => {
    // Act
    const violations = lintSql('-- no DISTINCT ON here\nSELECT 1,\n  x::int FROM t', LAKE_RULES);
    // Assess
    expect(violations).toEqual([
      { rule: 'cast-operator', why: expect.any(String), line: 3, text: 'x::int FROM t' },
    ]);
  });
});

describe('the views on DuckDB', () => {
  it('need no substitution, as glue/README.md says', () => {
    // The README's list sits between two markers; the views are written so that it stays "None".
    const readme = readFileSync(join(root, 'glue', 'README.md'), 'utf8');
    const listed = /<!-- substitutions -->([\s\S]*?)<!-- \/substitutions -->/.exec(readme)?.[1]?.trim();
    expect(listed).toMatch(/^None\b/);
  });

  it.each(views.map((v) => [v.name, v]))('runs view %s as written, text for text', async (_n, view) => {
    // Prepare: a runner that records what DuckDB would be given.
    const ran: string[] = [];
    // Act
    await createLakeViews({ run: async (sql) => void ran.push(sql) }, [view]);
    // Assess
    expect(ran).toEqual([view.createSql]);
  });
});
