import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import {
  CHANGE_KINDS,
  type ChangeKind,
  COLUMN_NAMES,
  DECIMAL_SCALE,
  STORED_COLUMN_NAMES,
  type StoredLine,
} from '../core/schema.js';
import { EcomflowError } from '../errors.js';

/** A lake object that is not a readable Parquet file of the record contract. */
export class LakeFileError extends EcomflowError {
  constructor(
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('unreadable_lake_file', message, options);
    this.name = 'LakeFileError';
  }
}

const SCALE = 10 ** DECIMAL_SCALE;

/**
 * The clean lines of one lake object, whoever wrote it: ecomflow's writer (timestamps as INT64 millis) or
 * Firehose's record format conversion on AWS (INT96 timestamps); both decode to a Date here. Decimals come
 * back as numbers and are rounded to the contract's scale, so 2.55 reads as 2.55 and not 2.5499999.
 *
 * @throws LakeFileError naming the key when the bytes are not Parquet or lack a contract column
 */
export async function readLakeLines(key: string, bytes: Uint8Array): Promise<StoredLine[]> {
  let rows: Record<string, unknown>[];
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    // Objects written before the change columns existed lack them; their rows read as version 0, `add`.
    const present = new Set(parquetMetadata(buffer).schema.map((element) => element.name));
    const columns = STORED_COLUMN_NAMES.filter(
      (name) => present.has(name) || (COLUMN_NAMES as readonly string[]).includes(name),
    );
    rows = await parquetReadObjects({ file: buffer, columns });
  } catch (cause) {
    throw new LakeFileError(key, `${key} is not a readable Parquet file: ${(cause as Error).message}`, {
      cause,
    });
  }
  return rows.map((row, i) => toLine(key, i, row));
}

function toLine(key: string, index: number, row: Record<string, unknown>): StoredLine {
  const date = row['invoice_date'];
  if (!(date instanceof Date) || Number.isNaN(date.getTime()) || typeof row['line_id'] !== 'string') {
    throw new LakeFileError(key, `${key}: row ${index + 1} has no line_id or invoice_date`);
  }
  return {
    line_id: row['line_id'],
    invoice_no: String(row['invoice_no']),
    stock_code: String(row['stock_code']),
    description: (row['description'] as string | null | undefined) ?? null,
    quantity: Number(row['quantity']),
    // The contract's form: seconds precision, UTC, 'Z' (2010-12-01T08:26:00Z).
    invoice_date: `${date.toISOString().slice(0, 19)}Z`,
    unit_price: decimal(row['unit_price']),
    customer_id:
      row['customer_id'] === null || row['customer_id'] === undefined ? null : Number(row['customer_id']),
    country: String(row['country']),
    line_total: decimal(row['line_total']),
    is_cancellation: Boolean(row['is_cancellation']),
    is_adjustment: Boolean(row['is_adjustment']),
    change_version:
      row['change_version'] === null || row['change_version'] === undefined
        ? null
        : Number(row['change_version']),
    change_kind: changeKind(row['change_kind']),
  };
}

function changeKind(value: unknown): ChangeKind | null {
  if (value === null || value === undefined) return null;
  return (Object.values(CHANGE_KINDS) as unknown[]).includes(value) ? (value as ChangeKind) : null;
}

function decimal(value: unknown): number {
  return Math.round(Number(value) * SCALE) / SCALE;
}
