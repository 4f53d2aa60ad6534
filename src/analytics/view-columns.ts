import type { LakeView } from './models.js';

/**
 * The columns of every lake view (and of the warehouse table of the same name), with one logical type
 * each. Deploying an Athena view through Glue needs its column types spelled out twice (Hive and Presto
 * names); the tests check the same list against DuckDB's view types and PostgreSQL's table types, so the
 * three cannot drift apart.
 */
export const VIEW_COLUMN_TYPES = {
  varchar: { hive: 'string', presto: 'varchar', duckdb: 'VARCHAR', postgres: 'character varying' },
  integer: { hive: 'int', presto: 'integer', duckdb: 'INTEGER', postgres: 'integer' },
  bigint: { hive: 'bigint', presto: 'bigint', duckdb: 'BIGINT', postgres: 'bigint' },
  decimal: {
    hive: 'decimal(18,3)',
    presto: 'decimal(18,3)',
    duckdb: 'DECIMAL(18,3)',
    postgres: 'numeric(18,3)',
  },
  double: { hive: 'double', presto: 'double', duckdb: 'DOUBLE', postgres: 'double precision' },
  date: { hive: 'date', presto: 'date', duckdb: 'DATE', postgres: 'date' },
  timestamp: {
    hive: 'timestamp',
    presto: 'timestamp',
    duckdb: 'TIMESTAMP',
    postgres: 'timestamp without time zone',
  },
  boolean: { hive: 'boolean', presto: 'boolean', duckdb: 'BOOLEAN', postgres: 'boolean' },
} as const;
export type ViewColumnType = keyof typeof VIEW_COLUMN_TYPES;

export type ViewColumns = readonly (readonly [name: string, type: ViewColumnType])[];

export const VIEW_COLUMNS: Record<LakeView, ViewColumns> = {
  invoice_lines: [
    ['line_id', 'varchar'],
    ['invoice_no', 'varchar'],
    ['stock_code', 'varchar'],
    ['description', 'varchar'],
    ['quantity', 'integer'],
    ['invoice_date', 'timestamp'],
    ['unit_price', 'decimal'],
    ['customer_id', 'integer'],
    ['country', 'varchar'],
    ['line_total', 'decimal'],
    ['is_cancellation', 'boolean'],
    ['is_adjustment', 'boolean'],
    // The partition columns, zero-padded strings as the Glue table has them: WHERE year = '2011'.
    ['year', 'varchar'],
    ['month', 'varchar'],
    ['day', 'varchar'],
  ],
  product_descriptions: [
    ['stock_code', 'varchar'],
    ['description', 'varchar'],
  ],
  daily_revenue: [
    ['day', 'date'],
    ['invoices', 'bigint'],
    ['lines', 'bigint'],
    ['units', 'bigint'],
    ['revenue', 'decimal'],
  ],
  daily_country_revenue: [
    ['day', 'date'],
    ['country', 'varchar'],
    ['invoices', 'bigint'],
    ['lines', 'bigint'],
    ['units', 'bigint'],
    ['revenue', 'decimal'],
  ],
  monthly_country_revenue: [
    ['month', 'date'],
    ['country', 'varchar'],
    ['invoices', 'bigint'],
    ['customers', 'bigint'],
    ['revenue', 'decimal'],
  ],
  product_sales: [
    ['month', 'date'],
    ['stock_code', 'varchar'],
    ['description', 'varchar'],
    ['units', 'bigint'],
    ['revenue', 'decimal'],
  ],
  product_country_sales: [
    ['month', 'date'],
    ['country', 'varchar'],
    ['stock_code', 'varchar'],
    ['description', 'varchar'],
    ['units', 'bigint'],
    ['revenue', 'decimal'],
  ],
  top_products: [
    ['rank', 'integer'],
    ['stock_code', 'varchar'],
    ['description', 'varchar'],
    ['units', 'bigint'],
    ['revenue', 'decimal'],
  ],
  customer_rfm: [
    ['customer_id', 'integer'],
    ['country', 'varchar'],
    ['first_invoice_at', 'timestamp'],
    ['last_invoice_at', 'timestamp'],
    ['recency_days', 'integer'],
    ['frequency', 'bigint'],
    ['monetary', 'decimal'],
    ['segment', 'varchar'],
  ],
  cancellations: [
    ['month', 'date'],
    ['country', 'varchar'],
    ['cancelled_lines', 'bigint'],
    ['cancelled_value', 'decimal'],
    ['cancellation_rate', 'double'],
    ['product_lines', 'bigint'],
  ],
  loyalty_points: [
    ['customer_id', 'integer'],
    ['invoice_no', 'varchar'],
    ['invoice_date', 'timestamp'],
    ['earned_at', 'timestamp'],
    ['revenue', 'decimal'],
    ['cancelled_value', 'decimal'],
    ['net_revenue', 'decimal'],
    ['points', 'bigint'],
    ['is_earned', 'boolean'],
  ],
  loyalty_balances: [
    ['customer_id', 'integer'],
    ['points', 'bigint'],
    ['pending_points', 'bigint'],
    ['earned_invoices', 'bigint'],
    ['as_of', 'timestamp'],
  ],
};
