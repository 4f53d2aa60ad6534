import NodeSqlParser from 'node-sql-parser';
import { lintSql, WAREHOUSE_RULES } from '../../src/analytics/portability.js';
import { REFRESH_LOCK_SQL } from '../../src/analytics/refresh.js';
import {
  customerRowsSql,
  ERASURE_KEYS_TABLE,
  ERASURE_TABLES,
  type ErasureWarehouse,
  eraseFromWarehouse,
  keyTableStatements,
  REKEY_CHUNK,
  rekeySql,
  STORED_ROWS_TABLE,
} from '../../src/erasure/warehouse.js';

const parser = new NodeSqlParser.Parser();
const pairs = (n: number) =>
  Array.from({ length: n }, (_, i) => [`old${i}`.padEnd(32, '0'), `new${i}`.padEnd(32, '0')] as const);

describe('the erasure SQL of the warehouse', () => {
  const statements = [
    ...Object.values(ERASURE_TABLES).map(customerRowsSql),
    ...keyTableStatements(17850, pairs(3)).map((s) => s.sql),
    rekeySql(ERASURE_TABLES.raw, true),
    rekeySql(STORED_ROWS_TABLE, false),
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
    const [create, insert] = keyTableStatements(17850, pairs(2));
    expect(create!.params).toBeUndefined();
    expect(insert!.sql).not.toContain('17850');
    expect(insert!.sql).not.toContain('old0');
    expect(insert!.params).toEqual([17850, ...pairs(2).flat()]);
    expect(insert!.sql).toContain('VALUES ($1, $2, $3), ($1, $4, $5)');
    // The transaction's statements name no value at all: they join the keys table.
    expect(rekeySql(ERASURE_TABLES.staging, true)).toMatch(
      /^UPDATE staging\.invoice_lines SET .* FROM erasure_keys /,
    );
  });

  it(`sends at most ${REKEY_CHUNK} lines an INSERT`, () => {
    const [, ...inserts] = keyTableStatements(1, pairs(REKEY_CHUNK * 2 + 1));
    expect(inserts.map((c) => (c.params!.length - 1) / 2)).toEqual([REKEY_CHUNK, REKEY_CHUNK, 1]);
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
    const sessions: { prepare: { sql: string; params?: unknown[] }[]; transaction: string[] }[] = [];
    let rows = [row];
    const warehouse: ErasureWarehouse = {
      query: async <T extends Record<string, unknown>>() => rows as unknown as T[],
      rekey: async (prepare, transaction) => {
        sessions.push({ prepare: [...prepare], transaction: [...transaction] });
        rows = [];
        return transaction.map((sql) => (sql.startsWith('UPDATE') ? 1 : 0));
      },
    };
    // Act
    const first = await eraseFromWarehouse(warehouse, 17850);
    const second = await eraseFromWarehouse(warehouse, 17850);
    // Assess
    expect(first).toEqual({ rawRows: 1, stagingRows: 1, storedRows: 1 });
    expect(second).toEqual({ rawRows: 0, stagingRows: 0, storedRows: 0 });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.transaction.map((sql) => sql.split(' SET ')[0])).toEqual([
      REFRESH_LOCK_SQL,
      `UPDATE ${ERASURE_TABLES.raw}`,
      `UPDATE ${ERASURE_TABLES.staging}`,
      `UPDATE ${STORED_ROWS_TABLE}`,
      `DROP TABLE ${ERASURE_KEYS_TABLE}`,
    ]);
    // One key row for the line found in both tables: the customer id, the old id and the guest line's.
    expect(sessions[0]!.prepare[1]!.params).toEqual([
      17850,
      row.line_id,
      expect.stringMatching(/^[0-9a-f]{32}$/),
    ]);
  });

  it('erases raw alone, without the lock, before any refresh made staging', async () => {
    const missing = Object.assign(new Error('relation "staging.invoice_lines" does not exist'), {});
    let transaction: readonly string[] = [];
    const warehouse: ErasureWarehouse = {
      query: async <T extends Record<string, unknown>>(sql: string) => {
        if (sql.includes(ERASURE_TABLES.staging)) throw missing;
        return [
          {
            line_id: 'b'.repeat(32),
            invoice_no: '1',
            stock_code: 'X',
            description: null,
            quantity: 1,
            invoice_date: '2011-01-01T00:00:00Z',
            unit_price: 1,
            country: 'France',
          },
        ] as unknown as T[];
      },
      rekey: async (_prepare, statements) => {
        transaction = statements;
        return statements.map(() => 1);
      },
    };
    expect(await eraseFromWarehouse(warehouse, 1)).toEqual({ rawRows: 1, stagingRows: 0, storedRows: 0 });
    expect(transaction).toEqual([rekeySql(ERASURE_TABLES.raw, true), `DROP TABLE ${ERASURE_KEYS_TABLE}`]);
  });
});
