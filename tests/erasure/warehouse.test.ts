import NodeSqlParser from 'node-sql-parser';
import { lintSql, WAREHOUSE_RULES } from '../../src/analytics/portability.js';
import {
  customerRowsSql,
  ERASURE_TABLES,
  type ErasureWarehouse,
  eraseFromWarehouse,
  REKEY_CHUNK,
  rekeyStatements,
  STORED_ROWS_TABLE,
} from '../../src/erasure/warehouse.js';

const parser = new NodeSqlParser.Parser();
const pairs = (n: number) =>
  Array.from({ length: n }, (_, i) => [`old${i}`.padEnd(32, '0'), `new${i}`.padEnd(32, '0')] as const);

describe('the erasure SQL of the warehouse', () => {
  const statements = [
    ...Object.values(ERASURE_TABLES).map(customerRowsSql),
    ...rekeyStatements(ERASURE_TABLES.raw, 17850, pairs(3)).map((s) => s.sql),
    ...rekeyStatements(STORED_ROWS_TABLE, null, pairs(2)).map((s) => s.sql),
  ];

  it.each(statements)('keeps to the constructs Redshift and PostgreSQL share: %s', (sql) => {
    expect(lintSql(sql, WAREHOUSE_RULES)).toEqual([]);
    // The parameters as Redshift's Data API names them; the grammar has no $n.
    const named = sql.replace(/\$(\d+)/g, ':p$1');
    for (const database of ['redshift', 'postgresql'] as const) {
      expect(() => parser.astify(database === 'redshift' ? named : sql, { database })).not.toThrow();
    }
  });

  it('binds the customer id and the line ids, never splicing them into the text', () => {
    const [statement] = rekeyStatements(ERASURE_TABLES.staging, 17850, pairs(2));
    expect(statement!.sql).not.toContain('17850');
    expect(statement!.sql).not.toContain('old0');
    expect(statement!.params).toEqual([17850, ...pairs(2).flat()]);
    expect(statement!.sql).toContain('WHEN $2 THEN $3 WHEN $4 THEN $5 END');
    expect(statement!.sql).toContain('line_id IN ($2, $4)');
  });

  it(`sends at most ${REKEY_CHUNK} lines a statement`, () => {
    const chunks = rekeyStatements(ERASURE_TABLES.raw, 1, pairs(REKEY_CHUNK * 2 + 1));
    expect(chunks.map((c) => (c.params.length - 1) / 2)).toEqual([REKEY_CHUNK, REKEY_CHUNK, 1]);
  });
});

describe('eraseFromWarehouse', () => {
  it('re-keys raw and staging in one transaction behind the refresh lock, and does nothing when nothing is left', async () => {
    // Prepare: a warehouse fake holding one row of the customer in each table.
    const row = {
      line_id: 'a'.repeat(32),
      invoice_no: '536365',
      stock_code: '85123A',
      description: 'WHITE HANGING HEART T-LIGHT HOLDER',
      quantity: 6,
      invoice_date: '2010-12-01T08:26:00Z',
      unit_price: '2.550',
      country: 'United Kingdom',
    };
    const transactions: { sql: string; params?: unknown[] }[][] = [];
    let rows = [row];
    const warehouse: ErasureWarehouse = {
      query: async <T extends Record<string, unknown>>() => rows as unknown as T[],
      transaction: async (statements) => {
        transactions.push([...statements]);
        rows = [];
        return statements.map((s) => (s.sql.startsWith('UPDATE') ? 1 : 0));
      },
    };
    // Act
    const first = await eraseFromWarehouse(warehouse, 17850);
    const second = await eraseFromWarehouse(warehouse, 17850);
    // Assess
    expect(first).toEqual({ rawRows: 1, stagingRows: 1, storedRows: 1 });
    expect(second).toEqual({ rawRows: 0, stagingRows: 0, storedRows: 0 });
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.map((s) => s.sql.split(' SET ')[0])).toEqual([
      'LOCK TABLE staging.invoice_lines',
      `UPDATE ${ERASURE_TABLES.raw}`,
      `UPDATE ${ERASURE_TABLES.staging}`,
      `UPDATE ${STORED_ROWS_TABLE}`,
    ]);
    // The record of applied rows has no customer_id: its rows are found by their old ids alone.
    expect(transactions[0]![3]!.params).toEqual([row.line_id, expect.stringMatching(/^[0-9a-f]{32}$/)]);
  });
});
