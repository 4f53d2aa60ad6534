/**
 * The record contract: the one definition of a clean invoice line.
 *
 * Everything that stores a line (Parquet in the lake, the Glue table, the Redshift DDL, DynamoDB items)
 * derives its columns from `LINE_COLUMNS` through the functions below, so a column is never retyped.
 */

/** Logical column types of the contract. Decimals carry `DECIMAL_SCALE` places. */
export const COLUMN_TYPES = {
  string: 'string',
  int32: 'int32',
  timestamp: 'timestamp',
  decimal: 'decimal',
  boolean: 'boolean',
} as const;
export type ColumnType = (typeof COLUMN_TYPES)[keyof typeof COLUMN_TYPES];

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly comment: string;
}

/** Prices are kept exactly to thousandths; 18 digits hold any realistic line total. */
export const DECIMAL_SCALE = 3;
export const DECIMAL_PRECISION = 18;

export const LINE_COLUMNS = [
  { name: 'line_id', type: 'string', nullable: false, comment: 'deterministic id of the normalised line' },
  {
    name: 'invoice_no',
    type: 'string',
    nullable: false,
    comment: 'InvoiceNo; C = cancellation, A = adjustment',
  },
  { name: 'stock_code', type: 'string', nullable: false, comment: 'StockCode' },
  { name: 'description', type: 'string', nullable: true, comment: 'Description, trimmed' },
  { name: 'quantity', type: 'int32', nullable: false, comment: 'Quantity; negative on cancellations' },
  {
    name: 'invoice_date',
    type: 'timestamp',
    nullable: false,
    comment: "InvoiceDate, the source's local time as UTC",
  },
  { name: 'unit_price', type: 'decimal', nullable: false, comment: 'UnitPrice in sterling' },
  { name: 'customer_id', type: 'int32', nullable: true, comment: 'CustomerID; null for guests' },
  { name: 'country', type: 'string', nullable: false, comment: 'Country of the customer' },
  { name: 'line_total', type: 'decimal', nullable: false, comment: 'quantity x unit_price, exact' },
  { name: 'is_cancellation', type: 'boolean', nullable: false, comment: 'InvoiceNo starts with C' },
  {
    name: 'is_adjustment',
    type: 'boolean',
    nullable: false,
    comment: 'A invoice or a non-product StockCode',
  },
] as const satisfies readonly ColumnDef[];

export type ColumnName = (typeof LINE_COLUMNS)[number]['name'];
export const COLUMN_NAMES: readonly ColumnName[] = LINE_COLUMNS.map((c) => c.name);

/**
 * A clean invoice line as it travels between components (Kinesis, Firehose, DynamoDB, the API).
 *
 * Decimals are JavaScript numbers holding a value exact to thousandths: the shortest text form of such a
 * number (what `JSON.stringify` writes) is the exact decimal, so JSON consumers read it without drift.
 * `invoice_date` is ISO 8601 in UTC with a `Z`, e.g. `2010-12-01T08:26:00Z`.
 */
export interface CleanLine {
  line_id: string;
  invoice_no: string;
  stock_code: string;
  description: string | null;
  quantity: number;
  invoice_date: string;
  unit_price: number;
  customer_id: number | null;
  country: string;
  line_total: number;
  is_cancellation: boolean;
  is_adjustment: boolean;
}

const GLUE_TYPES: Record<ColumnType, string> = {
  string: 'string',
  int32: 'int',
  timestamp: 'timestamp',
  decimal: `decimal(${DECIMAL_PRECISION},${DECIMAL_SCALE})`,
  boolean: 'boolean',
};

/** Glue (Hive) columns for the lake table, in contract order. */
export function glueColumns(): { Name: string; Type: string; Comment: string }[] {
  return LINE_COLUMNS.map((c) => ({ Name: c.name, Type: GLUE_TYPES[c.type], Comment: c.comment }));
}

const SQL_TYPES: Record<ColumnType, (name: string) => string> = {
  // Redshift VARCHAR counts bytes; 256 holds the longest Description (UTF-8) with room to spare.
  string: (name) => (name === 'line_id' ? 'VARCHAR(32)' : 'VARCHAR(256)'),
  int32: () => 'INTEGER',
  timestamp: () => 'TIMESTAMP',
  decimal: () => `DECIMAL(${DECIMAL_PRECISION},${DECIMAL_SCALE})`,
  boolean: () => 'BOOLEAN',
};

/** Column definitions for `CREATE TABLE` on Redshift and PostgreSQL, in contract order. */
export function sqlColumnDefinitions(): string[] {
  return LINE_COLUMNS.map((c) => `${c.name} ${SQL_TYPES[c.type](c.name)}${c.nullable ? '' : ' NOT NULL'}`);
}

/** `CREATE TABLE IF NOT EXISTS <table> (...)` for a table holding clean lines. */
export function createLineTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (\n  ${sqlColumnDefinitions().join(',\n  ')}\n)`;
}

/** A Parquet schema element, as hyparquet-writer takes it. */
export interface ParquetSchemaElement {
  name: string;
  type?: 'BYTE_ARRAY' | 'INT32' | 'INT64' | 'BOOLEAN';
  converted_type?: 'UTF8' | 'DECIMAL' | 'TIMESTAMP_MILLIS';
  logical_type?: { type: 'TIMESTAMP'; isAdjustedToUTC: boolean; unit: 'MILLIS' | 'MICROS' };
  repetition_type?: 'REQUIRED' | 'OPTIONAL';
  num_children?: number;
  scale?: number;
  precision?: number;
}

const PARQUET_TYPES: Record<ColumnType, Omit<ParquetSchemaElement, 'name' | 'repetition_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  int32: { type: 'INT32' },
  // UTC-adjusted millis: DuckDB reads TIMESTAMP WITH TIME ZONE, Athena and pyarrow a UTC timestamp.
  timestamp: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  decimal: { type: 'INT64', converted_type: 'DECIMAL', scale: DECIMAL_SCALE, precision: DECIMAL_PRECISION },
  boolean: { type: 'BOOLEAN' },
};

/** The Parquet schema of a lake file, in contract order. */
export function parquetSchema(): ParquetSchemaElement[] {
  return [
    { name: 'root', num_children: LINE_COLUMNS.length },
    ...LINE_COLUMNS.map(
      (c): ParquetSchemaElement => ({
        name: c.name,
        ...PARQUET_TYPES[c.type],
        repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED',
      }),
    ),
  ];
}
