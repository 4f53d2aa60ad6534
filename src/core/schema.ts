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
  int64: 'int64',
} as const;
export type ColumnType = (typeof COLUMN_TYPES)[keyof typeof COLUMN_TYPES];

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly comment: string;
  /** For strings: the most UTF-8 bytes a value may have; a longer value is quarantined as `field_too_long`. */
  readonly maxBytes?: number;
}

/**
 * The years an invoice date may have. Every store takes them: PostgreSQL and Redshift refuse year 0, and
 * four digits keep the ISO text (and the lake's `year=` partition) one shape. An invoice before 1900 is a
 * typo in a retail export, not history. The lake's partition projection is narrower (lakeProjectionYears);
 * the stream quarantines what falls outside it as outside_lake_years.
 */
export const INVOICE_YEARS = { first: 1900, last: 9999 } as const;

/** Prices are kept exactly to thousandths; 18 digits hold any realistic line total. */
export const DECIMAL_SCALE = 3;
export const DECIMAL_PRECISION = 18;

/**
 * The bounds of the string columns, in UTF-8 bytes. Every store has a limit a longer value breaks, and one
 * such value breaks a whole batch, not one line: Redshift's COPY fails the batch on a value wider than its
 * VARCHAR, and DynamoDB refuses a whole BatchWriteItem whose key is over 1,024 bytes (sort key) or 2,048
 * (partition key). So each value is checked against its bound when it is cleaned, and the DDL derives
 * from the bounds.
 *
 * The real data's longest values (all 541,909 rows): InvoiceNo 7 bytes, StockCode 12, Description 36,
 * Country 20. Each bound is several times that. The DynamoDB keys built from InvoiceNo and StockCode
 * (`LINE#<stock_code>#<line_id>`, `INV#<invoice_no>`, `<date>#<invoice_no>#<line_id>`) stay under 200 bytes
 * even when every byte is escaped to three (`%23`), against DYNAMODB_KEY_LIMITS in dynamo-items.ts.
 */
export const FIELD_MAX_BYTES = {
  line_id: 32,
  invoice_no: 32,
  stock_code: 32,
  description: 256,
  country: 64,
} as const;

/**
 * The most characters a numeric or date source field (Quantity, UnitPrice, InvoiceDate, CustomerID) may
 * have. Their clean values are bounded by type, but the stream carries the source text, and `0…06` with a
 * million zeros is a valid Quantity: this bound keeps every line's envelope small.
 */
export const SOURCE_VALUE_MAX_CHARS = 64;

export const LINE_COLUMNS = [
  {
    name: 'line_id',
    type: 'string',
    nullable: false,
    comment: 'deterministic id of the normalised line',
    maxBytes: FIELD_MAX_BYTES.line_id,
  },
  {
    name: 'invoice_no',
    type: 'string',
    nullable: false,
    comment: 'InvoiceNo; C = cancellation, A = adjustment',
    maxBytes: FIELD_MAX_BYTES.invoice_no,
  },
  {
    name: 'stock_code',
    type: 'string',
    nullable: false,
    comment: 'StockCode',
    maxBytes: FIELD_MAX_BYTES.stock_code,
  },
  {
    name: 'description',
    type: 'string',
    nullable: true,
    comment: 'Description, trimmed',
    maxBytes: FIELD_MAX_BYTES.description,
  },
  { name: 'quantity', type: 'int32', nullable: false, comment: 'Quantity; negative on cancellations' },
  {
    name: 'invoice_date',
    type: 'timestamp',
    nullable: false,
    comment: "InvoiceDate, the source's local time as UTC",
  },
  { name: 'unit_price', type: 'decimal', nullable: false, comment: 'UnitPrice in sterling' },
  { name: 'customer_id', type: 'int32', nullable: true, comment: 'CustomerID; null for guests' },
  {
    name: 'country',
    type: 'string',
    nullable: false,
    comment: 'Country of the customer',
    maxBytes: FIELD_MAX_BYTES.country,
  },
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
 * What kind of write stored a row (src/core/changes.ts has the rule that reads them):
 * - `add`: POST /ingest, which adds lines to an invoice;
 * - `replace`: PUT /invoices/{no} or a batch load, whose lines are the invoice's whole set from then on;
 * - `delete`: a tombstone, the last values of a line that a replace or DELETE /invoices/{no} removed.
 */
export const CHANGE_KINDS = { add: 'add', replace: 'replace', delete: 'delete' } as const;
export type ChangeKind = (typeof CHANGE_KINDS)[keyof typeof CHANGE_KINDS];

/**
 * The columns a store keeps beside the line's own: which write stored the row. They are not part of the
 * line (its line_id covers its values, not these), and they are nullable because rows stored before
 * versions existed have neither: a null version reads as 0 and a null kind as `add`.
 */
export const CHANGE_COLUMNS = [
  {
    name: 'change_version',
    type: 'int64',
    nullable: true,
    comment: 'version of the write that stored the row (ms since 1970 x 4096 + sequence); null = 0',
  },
  {
    name: 'change_kind',
    type: 'string',
    nullable: true,
    comment: 'add, replace or delete (a tombstone); null = add',
    maxBytes: 8,
  },
] as const satisfies readonly ColumnDef[];

/** Every column a store holds for a row: the line's, then the change columns. */
export const STORED_COLUMNS = [...LINE_COLUMNS, ...CHANGE_COLUMNS] as const;
export type StoredColumnName = (typeof STORED_COLUMNS)[number]['name'];
export const STORED_COLUMN_NAMES: readonly StoredColumnName[] = STORED_COLUMNS.map((c) => c.name);

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

/** The change columns of a stored row; absent on a line stored without a version (version 0, `add`). */
export interface ChangeFields {
  change_version?: number | null;
  change_kind?: ChangeKind | null;
}

/** A line as a store keeps it: the line and, when known, the write that stored it. */
export type StoredLine = CleanLine & ChangeFields;

const GLUE_TYPES: Record<ColumnType, string> = {
  string: 'string',
  int32: 'int',
  timestamp: 'timestamp',
  decimal: `decimal(${DECIMAL_PRECISION},${DECIMAL_SCALE})`,
  boolean: 'boolean',
  int64: 'bigint',
};

/**
 * Glue (Hive) columns for the lake table, in contract order. Strings stay `string`: Parquet has no length,
 * so a `varchar(n)` would bound nothing the cleaning has not bounded already; the comment carries the bound.
 */
export function glueColumns(): { Name: string; Type: string; Comment: string }[] {
  return STORED_COLUMNS.map((c) => ({
    Name: c.name,
    Type: GLUE_TYPES[c.type],
    Comment: 'maxBytes' in c ? `${c.comment} (at most ${c.maxBytes} bytes)` : c.comment,
  }));
}

const SQL_TYPES: Record<ColumnType, (column: ColumnDef) => string> = {
  // Redshift's VARCHAR(n) counts bytes, as the bounds do.
  // Every string column has a bound: tests/core/schema.test.ts checks it.
  string: (column) => `VARCHAR(${column.maxBytes})`,
  int32: () => 'INTEGER',
  timestamp: () => 'TIMESTAMP',
  decimal: () => `DECIMAL(${DECIMAL_PRECISION},${DECIMAL_SCALE})`,
  boolean: () => 'BOOLEAN',
  int64: () => 'BIGINT',
};

/**
 * Column definitions for `CREATE TABLE` on Redshift and PostgreSQL, in contract order: a store's (the line's
 * and the change columns) unless `columns` says otherwise.
 */
export function sqlColumnDefinitions(columns: readonly ColumnDef[] = STORED_COLUMNS): string[] {
  return columns.map((c) => `${c.name} ${SQL_TYPES[c.type](c)}${c.nullable ? '' : ' NOT NULL'}`);
}

/** `CREATE TABLE IF NOT EXISTS <table> (...)` for a table holding clean lines. */
export function createLineTableSql(table: string, columns: readonly ColumnDef[] = STORED_COLUMNS): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (\n  ${sqlColumnDefinitions(columns).join(',\n  ')}\n)`;
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
  int64: { type: 'INT64' },
};

/** The Parquet schema of a lake file, in contract order. */
export function parquetSchema(): ParquetSchemaElement[] {
  return [
    { name: 'root', num_children: STORED_COLUMNS.length },
    ...STORED_COLUMNS.map(
      (c): ParquetSchemaElement => ({
        name: c.name,
        ...PARQUET_TYPES[c.type],
        repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED',
      }),
    ),
  ];
}
