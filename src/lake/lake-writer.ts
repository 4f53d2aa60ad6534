import type { StoredLine } from '../core/schema.js';
import { TaskPool } from '../task-pool.js';
import { ParquetLineWriter } from './parquet.js';
import { lakePartition } from './partition.js';

/** Where finished Parquet parts go: S3 (the lake bucket) on AWS and locally. */
export interface PartStore {
  /** Stores one part; the key is deterministic, so storing it again overwrites it with the same bytes. */
  put(key: string, body: Uint8Array, rows: number): Promise<void>;
  /** Whether a part with this key is already stored (a resumed load skips it). */
  has?(key: string): boolean;
}

export interface LakeWriterOptions {
  /** Key prefix of the table, e.g. `lake/invoice_lines/`. */
  prefix: string;
  /** Identifies the source file, so every load of the same file names its parts the same way. */
  sourceId: string;
  /** Rows per part file. */
  partRows?: number;
  /** Rows buffered across all open partitions before the largest is written out. Bounds memory. */
  maxBufferedRows?: number;
  /** Part uploads under way at once. */
  concurrency?: number;
}

interface OpenPart {
  writer: ParquetLineWriter;
  rows: number;
  /** When it last got a line: exports are roughly in date order, so the stalest day is the finished one. */
  touched: number;
}

/**
 * Writes clean lines into the lake as Parquet parts under `year=/month=/day=` partitions of invoice date.
 *
 * Part names are deterministic for a source and its line order: `<prefix><partition>batch-<sourceId>-<n>.parquet`,
 * where n counts that partition's parts. Loading the same file again therefore overwrites the same objects
 * instead of adding new ones, and a resumed load can skip the parts already stored.
 */
export class PartitionedLakeWriter {
  private readonly open = new Map<string, OpenPart>();
  private readonly partCounts = new Map<string, number>();
  private buffered = 0;
  private clock = 0;
  /** Closed parts waiting for an upload slot; `drain()` and `finish()` start them. */
  private readonly closed: { key: string; body: Uint8Array; rows: number }[] = [];
  private readonly uploads: TaskPool;
  private readonly partRows: number;
  private readonly maxBufferedRows: number;
  readonly written: { parts: number; skipped: number; rows: number } = { parts: 0, skipped: 0, rows: 0 };

  constructor(
    private readonly store: PartStore,
    private readonly options: LakeWriterOptions,
  ) {
    this.partRows = options.partRows ?? 250_000;
    this.maxBufferedRows = options.maxBufferedRows ?? 100_000;
    this.uploads = new TaskPool(options.concurrency ?? 4);
  }

  append(line: StoredLine): void {
    const partition = lakePartition(line.invoice_date);
    let part = this.open.get(partition);
    if (!part) {
      part = { writer: ParquetLineWriter.inMemory(64_000), rows: 0, touched: 0 };
      this.open.set(partition, part);
    }
    part.writer.append(line);
    part.rows++;
    part.touched = ++this.clock;
    this.buffered++;
    if (part.rows >= this.partRows) this.closePart(partition);
    else if (this.buffered > this.maxBufferedRows) this.closePart(this.stalestPartition());
  }

  /** Starts the uploads of the parts closed so far, waiting while too many are under way; rethrows an upload's failure. */
  async drain(): Promise<void> {
    await this.startUploads();
    if (this.uploads.failed) await this.uploads.drain();
  }

  /** Writes every open part and waits for all uploads. */
  async finish(): Promise<void> {
    for (const partition of [...this.open.keys()]) this.closePart(partition);
    await this.startUploads();
    await this.uploads.drain();
  }

  private async startUploads(): Promise<void> {
    while (this.closed.length > 0 && !this.uploads.failed) {
      const { key, body, rows } = this.closed.shift()!;
      await this.uploads.run(async () => {
        await this.store.put(key, body, rows);
        this.written.parts++;
        this.written.rows += rows;
      });
    }
  }

  private stalestPartition(): string {
    let stalest = '';
    let touched = Number.POSITIVE_INFINITY;
    for (const [partition, part] of this.open) {
      if (part.touched < touched) {
        stalest = partition;
        touched = part.touched;
      }
    }
    return stalest;
  }

  private closePart(partition: string): void {
    const part = this.open.get(partition)!;
    this.open.delete(partition);
    this.buffered -= part.rows;
    const n = this.partCounts.get(partition) ?? 0;
    this.partCounts.set(partition, n + 1);
    const key = `${this.options.prefix}${partition}batch-${this.options.sourceId}-${String(n).padStart(4, '0')}.parquet`;
    if (this.store.has?.(key)) {
      this.written.skipped++;
      this.written.rows += part.rows;
      return;
    }
    // Encoded now, so the open part's columns are freed; the bytes wait for an upload slot.
    this.closed.push({ key, body: part.writer.close(), rows: part.rows });
  }
}
