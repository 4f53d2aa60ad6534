import { REDSHIFT_DATA_LIMITS } from '../../src/adapters/redshift-data.js';
import { RefreshError } from '../../src/analytics/errors.js';
import { FULL_REBUILD_SQL, findSqlRoot, MARTS, type Mart } from '../../src/analytics/models.js';
import { pgRunner, redactUrl } from '../../src/analytics/pg-runner.js';
import { redshiftRunner } from '../../src/analytics/redshift-runner.js';
import {
  MART_COLUMNS_SQL,
  martsToRebuild,
  planRefresh,
  REFRESH_LOCK_SQL,
  refreshWarehouse,
} from '../../src/analytics/refresh.js';
import { stripComments } from '../../src/analytics/sql-text.js';
import { VIEW_COLUMNS } from '../../src/analytics/view-columns.js';
import { fakeRedshiftData, recordingSleep } from '../helpers/redshift-data.js';

const code = (sql: string) => stripComments(sql).trim();

describe('planRefresh', () => {
  it('runs only idempotent DDL in the setup transaction, and everything else after the lock', async () => {
    // Act
    const plan = await planRefresh();
    // Assess
    expect(plan.setup.length).toBeGreaterThan(0);
    for (const s of plan.setup) expect(code(s.sql)).toMatch(/^CREATE (SCHEMA|TABLE) IF NOT EXISTS /);
    expect(plan.refresh[0]!.sql).toBe(REFRESH_LOCK_SQL);
    expect(plan.refresh.slice(1).map((s) => code(s.sql))).not.toContainEqual(
      expect.stringMatching(/^CREATE (SCHEMA|TABLE) IF NOT EXISTS/),
    );
    for (const sql of FULL_REBUILD_SQL) expect(plan.refresh.map((s) => s.sql)).not.toContain(sql);
  });

  it('deletes the staged lines and the applied rows right after the lock for a full rebuild', async () => {
    // Act
    const plan = await planRefresh({ full: true });
    // Assess
    expect(plan.refresh.slice(0, 3).map((s) => s.sql)).toEqual([REFRESH_LOCK_SQL, ...FULL_REBUILD_SQL]);
  });

  it('keeps each transaction within one Data API batch', async () => {
    const plan = await planRefresh({ full: true });
    expect(plan.setup.length).toBeLessThanOrEqual(REDSHIFT_DATA_LIMITS.maxBatchStatements);
    expect(plan.refresh.length).toBeLessThanOrEqual(REDSHIFT_DATA_LIMITS.maxBatchStatements);
  });

  it('restages the changed groups, then rebuilds every mart: one DELETE and one INSERT each, in dependency order', async () => {
    // Act
    const { refresh } = await planRefresh();
    const writes = refresh.map((s) => code(s.sql).split('\n')[0]!).filter((l) => /^(DELETE|INSERT)/.test(l));
    // Assess
    expect(writes).toEqual([
      'DELETE FROM staging.changed_groups',
      'INSERT INTO staging.changed_groups (invoice_no, invoice_day)',
      'DELETE FROM staging.invoice_lines',
      'INSERT INTO staging.invoice_lines (',
      'INSERT INTO staging.stored_rows (line_id, invoice_no, invoice_day, change_version, change_kind)',
      'DELETE FROM staging.product_descriptions',
      'INSERT INTO staging.product_descriptions (stock_code, description)',
      'DELETE FROM marts.daily_revenue',
      'INSERT INTO marts.daily_revenue (day, invoices, lines, units, revenue)',
      'DELETE FROM marts.daily_country_revenue',
      'INSERT INTO marts.daily_country_revenue (day, country, invoices, lines, units, revenue)',
      'DELETE FROM marts.monthly_country_revenue',
      'INSERT INTO marts.monthly_country_revenue (month, country, invoices, customers, revenue)',
      'DELETE FROM marts.product_sales',
      'INSERT INTO marts.product_sales (month, stock_code, description, units, revenue)',
      'DELETE FROM marts.product_country_sales',
      'INSERT INTO marts.product_country_sales (month, country, stock_code, description, units, revenue)',
      'DELETE FROM marts.top_products',
      'INSERT INTO marts.top_products (rank, stock_code, description, units, revenue)',
      'DELETE FROM marts.customer_rfm',
      'INSERT INTO marts.customer_rfm (',
      'DELETE FROM marts.cancellations',
      'INSERT INTO marts.cancellations (',
      'DELETE FROM marts.loyalty_points',
      'INSERT INTO marts.loyalty_points (',
      'DELETE FROM marts.loyalty_balances',
      'INSERT INTO marts.loyalty_balances (customer_id, points, pending_points, earned_invoices, as_of)',
    ]);
  });
});

describe('pgRunner', () => {
  it('sends each transaction as one multi-statement query and reports the statements run', async () => {
    // Prepare
    const queries: string[] = [];
    const runner = pgRunner(
      {
        query: async (sql: string) => {
          queries.push(sql);
          return [];
        },
      },
      'pg',
    );
    // Act
    const result = await refreshWarehouse(runner, { root: findSqlRoot(), now: () => 0 });
    // Assess: the marts' columns are read first, then the two transactions.
    expect(queries).toHaveLength(3);
    expect(queries[0]).toBe(MART_COLUMNS_SQL);
    expect(queries[2]!.startsWith(`${REFRESH_LOCK_SQL};\n`)).toBe(true);
    expect(result).toMatchObject({ target: 'pg', full: false, ms: 0 });
    const plan = await planRefresh();
    expect(result.statements).toBe(plan.setup.length + plan.refresh.length);
  });

  it("names the statement at PostgreSQL's error position", async () => {
    // Prepare: the error points into the third statement.
    const statements = [
      { model: 'a', statement: 1, sql: 'SELECT 1' },
      { model: 'b', statement: 1, sql: 'SELECT 2' },
      { model: 'b', statement: 2, sql: '-- why\nINSERT INTO marts.x SELECT nope' },
    ];
    const position = 'SELECT 1;\nSELECT 2;\n-- why\nINSERT INTO marts.x SELECT '.length + 1;
    const runner = pgRunner(
      {
        query: async () => {
          throw Object.assign(new Error('column "nope" does not exist'), { position: String(position) });
        },
      },
      'pg',
    );
    // Act
    const run = runner.runTransaction(statements);
    // Assess
    await expect(run).rejects.toBeInstanceOf(RefreshError);
    await expect(run).rejects.toMatchObject({
      model: 'b',
      statement: 2,
      message:
        'refresh failed on pg at b statement 2 (INSERT INTO marts.x SELECT nope) and was rolled back: column "nope" does not exist',
    });
  });

  it('still fails, without a statement, when PostgreSQL gives no position', async () => {
    const runner = pgRunner({ query: async () => Promise.reject(new Error('division by zero')) }, 'pg');
    await expect(
      runner.runTransaction([{ model: 'a', statement: 1, sql: 'SELECT 1/0' }]),
    ).rejects.toMatchObject({
      model: undefined,
      message: 'refresh failed on pg and was rolled back: division by zero',
    });
  });
});

describe('martsToRebuild', () => {
  const columnsOf = (mart: Mart) =>
    VIEW_COLUMNS[mart].map(([column_name]) => ({ table_name: mart, column_name }));

  it('lists a mart whose table lacks a declared column, or has one more, and no other', () => {
    const rows = [
      ...columnsOf('daily_revenue'),
      ...columnsOf('cancellations').filter((c) => c.column_name !== 'product_lines'),
      ...columnsOf('top_products'),
      { table_name: 'top_products', column_name: 'dropped_long_ago' },
    ];
    const expected: Mart[] = ['top_products', 'cancellations'];
    expect(martsToRebuild(rows)).toEqual(expected.sort((a, b) => MARTS.indexOf(a) - MARTS.indexOf(b)));
  });

  it('lists no mart that does not exist yet (the setup makes it)', () => {
    expect(martsToRebuild([])).toEqual([]);
  });
});

describe('redshiftRunner', () => {
  it('runs each transaction as one batch and names the model of the failed statement', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([
      {
        Status: 'FAILED',
        SubStatements: [{ Status: 'FINISHED' }, { Status: 'FAILED', Error: 'permission denied' }],
      },
    ]);
    const runner = redshiftRunner(
      client,
      { database: 'dev', secretArn: 'arn:s', workgroupName: 'ecomflow' },
      recordingSleep(),
    );
    // Act
    const run = runner.runTransaction([
      { model: 'refresh', statement: 1, sql: REFRESH_LOCK_SQL },
      { model: 'marts/daily_revenue', statement: 3, sql: 'DELETE FROM marts.daily_revenue' },
    ]);
    // Assess
    await expect(run).rejects.toMatchObject({
      model: 'marts/daily_revenue',
      statement: 3,
      message: expect.stringContaining(
        'refresh failed on ecomflow at marts/daily_revenue statement 3 (DELETE FROM marts.daily_revenue) and was rolled back',
      ),
    });
    expect(runner.target).toBe('redshift ecomflow/dev');
    expect(sent[0]!.input['Sqls']).toEqual([REFRESH_LOCK_SQL, 'DELETE FROM marts.daily_revenue']);
  });
});

describe('redactUrl', () => {
  it('drops the password and keeps the rest', () => {
    expect(redactUrl('postgres://ecomflow:secret@127.0.0.1:5433/ecomflow')).toBe(
      'postgres://ecomflow@127.0.0.1:5433/ecomflow',
    );
    expect(redactUrl('not a url')).toBe('<warehouse>');
  });
});
