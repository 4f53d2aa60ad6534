import { ByteWriter, fileWriter, ParquetWriter, type SchemaElement, type Writer } from 'hyparquet-writer';
import { type CleanLine, COLUMN_NAMES, parquetSchema } from '../transform/schema.js';

/** Rows per row group: large enough for good compression, small enough to keep memory flat. */
export const ROW_GROUP_ROWS = 128_000;

/**
 * Per-column tuning, measured on the real data: line ids are unique, so trying a dictionary for them and
 * keeping min/max of random hex costs time for nothing; statistics on free text serve no predicate.
 */
const COLUMN_OPTIONS: Partial<Record<keyof CleanLine, { encoding?: 'PLAIN'; statistics?: boolean }>> = {
  line_id: { encoding: 'PLAIN', statistics: false },
  description: { statistics: false },
};

type Columns = { [K in keyof CleanLine]: unknown[] };

/**
 * Streams clean lines into one Parquet file, a row group at a time, so memory stays bounded by
 * `ROW_GROUP_ROWS` whatever the input size. The schema is the record contract's (`parquetSchema()`).
 *
 * @example
 * const out = ParquetLineWriter.toFile('lines.parquet');
 * for (const line of lines) out.append(line);
 * out.close();
 */
export class ParquetLineWriter {
  private columns: Columns = emptyColumns();
  private pending = 0;
  private written = 0;
  private readonly parquet: ParquetWriter;
  private lastDate = '';
  private lastEpoch = 0;

  constructor(
    private readonly writer: Writer,
    private readonly rowGroupRows = ROW_GROUP_ROWS,
  ) {
    this.parquet = new ParquetWriter({
      writer,
      schema: parquetSchema() as SchemaElement[],
      createdBy: 'ecomflow',
    });
  }

  /** A writer that streams to a local file, flushing every megabyte. */
  static toFile(path: string, rowGroupRows?: number): ParquetLineWriter {
    return new ParquetLineWriter(fileWriter(path), rowGroupRows);
  }

  /** A writer that keeps the file in memory, for an S3 upload. Read it with `bytes()` after `close()`. */
  static inMemory(rowGroupRows?: number): ParquetLineWriter {
    return new ParquetLineWriter(new ByteWriter(), rowGroupRows);
  }

  get rows(): number {
    return this.written + this.pending;
  }

  append(line: CleanLine): void {
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
    if (++this.pending >= this.rowGroupRows) this.flushGroup();
  }

  /** Writes the last row group and the footer. */
  close(): void {
    if (this.pending > 0) this.flushGroup();
    this.parquet.finish();
  }

  /** The finished file, for writers made with `inMemory()`. */
  bytes(): Uint8Array {
    return this.writer.getBytes();
  }

  private flushGroup(): void {
    const columnData = COLUMN_NAMES.map((name) => ({
      name,
      data: this.columns[name],
      ...COLUMN_OPTIONS[name],
    }));
    // One call per group: the writer's own row-group splitting would slice our arrays again.
    this.parquet.write({ columnData, rowGroupSize: this.pending });
    this.written += this.pending;
    this.pending = 0;
    this.columns = emptyColumns();
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

function emptyColumns(): Columns {
  return Object.fromEntries(COLUMN_NAMES.map((n) => [n, []])) as unknown as Columns;
}
