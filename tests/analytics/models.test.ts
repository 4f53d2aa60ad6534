import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqlFileError } from '../../src/analytics/errors.js';
import {
  dropLeadingComments,
  findSqlRoot,
  LAKE_QUERIES,
  LAKE_VIEWS,
  loadLakeQueries,
  loadLakeViews,
  loadWarehouseStatements,
  MARTS,
  parseViewFile,
  WAREHOUSE_MODELS,
  WAREHOUSE_QUERIES,
} from '../../src/analytics/models.js';
import { VIEW_COLUMNS } from '../../src/analytics/view-columns.js';
import { createLineTableSql, LINE_COLUMNS } from '../../src/core/schema.js';

const root = findSqlRoot();

function sqlFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sqlFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
      : entry.name.endsWith('.sql')
        ? [`${prefix}${entry.name.slice(0, -4)}`]
        : [],
  );
}

describe('the model manifest', () => {
  it('lists every SQL file under warehouse/ exactly once, raw before staging before marts', () => {
    // Act
    const files = sqlFiles('warehouse').sort();
    // Assess
    expect([...WAREHOUSE_MODELS, ...WAREHOUSE_QUERIES].sort()).toEqual(files);
    const layer = (m: string) => ['raw', 'staging', 'marts'].indexOf(m.split('/')[0]!);
    const layers = WAREHOUSE_MODELS.map(layer);
    expect(layers).toEqual([...layers].sort());
    expect(WAREHOUSE_MODELS.filter((m) => m.startsWith('marts/'))).toEqual(MARTS.map((m) => `marts/${m}`));
  });

  it('lists every Athena view and named query file exactly once, with declared columns for each view', () => {
    expect([...LAKE_VIEWS].sort()).toEqual(sqlFiles('glue/views').sort());
    expect([...LAKE_QUERIES].sort()).toEqual(sqlFiles('glue/queries').sort());
    expect(Object.keys(VIEW_COLUMNS).sort()).toEqual([...LAKE_VIEWS].sort());
  });

  it('declares raw.invoice_lines exactly as the record contract', async () => {
    // Prepare: the contract's DDL, with the schema quoted as Redshift needs.
    const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();
    // Act
    const statements = await loadWarehouseStatements(root, ['raw/invoice_lines']);
    // Assess
    expect(statements.map((s) => normalise(dropLeadingComments(s.sql)))).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "raw"',
      normalise(createLineTableSql('"raw".invoice_lines')),
    ]);
  });

  it("declares staging.invoice_lines with exactly the record contract's columns", async () => {
    // Prepare
    const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();
    // Act
    const statements = await loadWarehouseStatements(root, ['staging/invoice_lines']);
    const create = statements
      .map((s) => normalise(dropLeadingComments(s.sql)))
      .find((sql) => sql.startsWith('CREATE TABLE IF NOT EXISTS staging.invoice_lines'));
    // Assess
    expect(create).toBe(normalise(createLineTableSql('staging.invoice_lines', LINE_COLUMNS)));
  });

  it('reads each view file as one CREATE OR REPLACE VIEW named after the file', async () => {
    // Act
    const views = await loadLakeViews(root);
    // Assess
    expect(views.map((v) => v.name)).toEqual([...LAKE_VIEWS]);
    for (const view of views) {
      expect(view.createSql).toMatch(new RegExp(`^CREATE OR REPLACE VIEW ${view.name} AS\\n`));
      expect(view.selectSql).toMatch(/^SELECT\b/);
    }
  });

  it('reads each named query with its first comment line as the description', async () => {
    // Act
    const queries = await loadLakeQueries(root);
    // Assess
    expect(queries.map((q) => q.name)).toEqual([...LAKE_QUERIES]);
    for (const query of queries) {
      expect(query.description.length).toBeGreaterThan(20);
      expect(query.sql).toMatch(/^SELECT\b/);
    }
  });

  it('refuses a view file whose view is named differently', () => {
    // Act
    const parse = () => parseViewFile('glue/views/a.sql', 'a', 'CREATE OR REPLACE VIEW b AS SELECT 1');
    // Assess
    expect(parse).toThrow(SqlFileError);
    expect(parse).toThrow('glue/views/a.sql: the view is named "b", not "a"');
  });

  it('refuses a view file with more than one statement', () => {
    expect(() => parseViewFile('v.sql', 'v', 'CREATE OR REPLACE VIEW v AS SELECT 1; SELECT 2')).toThrow(
      'v.sql: expected one CREATE OR REPLACE VIEW, found 2 statements',
    );
  });
});
