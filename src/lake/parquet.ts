import { ByteWriter, ParquetWriter, type SchemaElement, type Writer } from 'hyparquet-writer';
import {
  parquetSchema,
  STORED_COLUMN_NAMES,
  type StoredColumnName,
  type StoredLine,
} from '../core/schema.js';

/** Rows per row group: large enough for good compression, small enough to keep memory flat. */
export const ROW_GROUP_ROWS = 64_000;

type Columns = { [K in StoredColumnName]: unknown[] };

/** One row group's worth of columns, in contract order and Parquet-ready values. */
export interface ColumnBatch {
  rows: number;
  columns: Columns;
}

/**
 * Per-column tuning, measured on the real data: line ids are unique, so trying a dictionary for them and
 * keeping min/max of random hex costs time for nothing; statistics on free text serve no predicate.
 */
const COLUMN_OPTIONS: Partial<Record<StoredColumnName, { encoding?: 'PLAIN'; statistics?: boolean }>> = {
  line_id: { encoding: 'PLAIN', statistics: false },
  description: { statistics: false },
};

/** Buffers clean lines column by column until a row group is full. */
export class LineColumns {
  private columns: Columns = emptyColumns();
  private count = 0;
  private lastDate = '';
  private lastEpoch = 0;

  get pending(): number {
    return this.count;
  }

  /** Appends a line; returns true when a row group's worth is buffered. */
  append(line: StoredLine, groupRows = ROW_GROUP_ROWS): boolean {
    const c = this.columns;
    c.line_id.push(line.line_id);
    c.invoice_no.push(line.invoice_no);
    c.stock_code.push(line.stock_code);
    c.description.push(line.description);
    c.quantity.push(line.quantity);
    c.invoice_date.push(this.epoch(line.invoice_date));
    c.unit_price.push(line.unit_price);
    c.customer_id.push(line.customer_id);
    c.country.push(line.country);
    c.line_total.push(line.line_total);
    c.is_cancellation.push(line.is_cancellation);
    c.is_adjustment.push(line.is_adjustment);
    c.change_version.push(line.change_version == null ? null : BigInt(line.change_version));
    c.change_kind.push(line.change_kind ?? null);
    return ++this.count >= groupRows;
  }

  take(): ColumnBatch | null {
    if (this.count === 0) return null;
    const batch = { rows: this.count, columns: this.columns };
    this.columns = emptyColumns();
    this.count = 0;
    return batch;
  }

  /** Epoch millis of an ISO instant; consecutive lines of an invoice share one, so the last is cached. */
  private epoch(iso: string): number {
    if (iso !== this.lastDate) {
      this.lastDate = iso;
      this.lastEpoch = Date.parse(iso);
    }
    return this.lastEpoch;
  }
}

/** Encodes row groups into one Parquet file with the record contract's schema. */
export class ParquetEncoder {
  private readonly parquet: ParquetWriter;
  rows = 0;

  constructor(private readonly writer: Writer) {
    this.parquet = new ParquetWriter({
      writer,
      schema: parquetSchema() as SchemaElement[],
      createdBy: 'ecomflow',
    });
  }

  write(batch: ColumnBatch): void {
    const columnData = STORED_COLUMN_NAMES.map((name) => ({
      name,
      data: batch.columns[name],
      ...COLUMN_OPTIONS[name],
    }));
    // One call per group: the writer's own row-group splitting would slice the arrays again.
    this.parquet.write({ columnData, rowGroupSize: batch.rows });
    this.rows += batch.rows;
  }

  /** Writes the footer. */
  close(): void {
    this.parquet.finish();
  }

  /** The whole file, for an encoder over a `ByteWriter`. */
  bytes(): Uint8Array {
    return this.writer.getBytes();
  }
}

/**
 * Streams clean lines into one Parquet file on this thread, so memory stays bounded by one row group.
 *
 * @example
 * const out = ParquetLineWriter.inMemory();
 * for (const line of lines) out.append(line);
 * const bytes = out.close();
 */
export class ParquetLineWriter {
  private readonly columns = new LineColumns();
  private readonly encoder: ParquetEncoder;

  constructor(
    writer: Writer,
    private readonly groupRows = ROW_GROUP_ROWS,
  ) {
    this.encoder = new ParquetEncoder(writer);
  }

  static inMemory(groupRows?: number): ParquetLineWriter {
    return new ParquetLineWriter(new ByteWriter(), groupRows);
  }

  get rows(): number {
    return this.encoder.rows + this.columns.pending;
  }

  append(line: StoredLine): void {
    if (this.columns.append(line, this.groupRows)) this.encoder.write(this.columns.take()!);
  }

  /** Writes the last row group and the footer; returns the file's bytes (only for `inMemory()`). */
  close(): Uint8Array {
    const last = this.columns.take();
    if (last) this.encoder.write(last);
    this.encoder.close();
    return this.encoder.bytes();
  }
}

function emptyColumns(): Columns {
  return Object.fromEntries(STORED_COLUMN_NAMES.map((n) => [n, []])) as unknown as Columns;
}
