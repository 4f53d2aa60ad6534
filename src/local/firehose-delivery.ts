import { randomUUID } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PgWarehouse } from '../adapters/pg-warehouse.js';
import { RAW_TABLE } from '../adapters/pg-warehouse.js';
import { STATE_DIR_MODE, STATE_FILE_MODE } from '../config/local.js';
import type { StoredLine } from '../core/schema.js';
import { EcomflowError } from '../errors.js';
import { ParquetLineWriter } from '../lake/parquet.js';
import { lakePartition } from '../lake/partition.js';

/** The spool folder in the state folder: accepted records wait here until delivered. */
export const FIREHOSE_SPOOL_DIR = 'firehose-spool';

/**
 * Inside the spool folder: segments `recover()` could not read (a line in the middle that is not JSON).
 * They are moved here, whole and untouched, so that the next start does not trip over them again and
 * nothing is delivered from them until someone looks; moving one back into the spool folder delivers it
 * at the next start.
 */
export const SPOOL_UNREADABLE_DIR = 'unreadable';

/** A problem `recover()` found in a spool segment: reported through `onError`, never thrown. */
export class SpoolSegmentError extends EcomflowError {
  readonly path: string;
  constructor(code: string, path: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'SpoolSegmentError';
    this.path = path;
  }
}

/** A line the warehouse kept refusing as data, moved to the errors prefix (not retried again). */
export class RefusedLineError extends EcomflowError {
  constructor(
    readonly lineId: string,
    readonly location: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super('warehouse_refused_line', message, options);
    this.name = 'RefusedLineError';
  }
}

/**
 * The last line of a segment was half written: no newline after it, and not JSON. It is what a crash
 * during an append leaves, and the PutRecordBatch of that append was never answered, so nobody was told
 * it was accepted: it is dropped, and the lines before it are delivered.
 */
export class TornSpoolTailError extends SpoolSegmentError {
  readonly offset: number;
  constructor(path: string, offset: number, bytes: number, kept: number) {
    super(
      'torn_spool_tail',
      path,
      `${path}: dropped a torn last line at byte ${offset} (${bytes} bytes, no newline, not JSON: a crash ` +
        `during an append, never acknowledged); the ${kept} lines before it are delivered`,
    );
    this.name = 'TornSpoolTailError';
    this.offset = offset;
  }
}

/** A line before the last is not JSON: the segment is damaged, not torn, and is set aside whole. */
export class UnreadableSpoolSegmentError extends SpoolSegmentError {
  readonly line: number;
  constructor(path: string, line: number, offset: number, reason: string, movedTo: string | null) {
    super(
      'unreadable_spool_segment',
      path,
      `${path} line ${line} (byte ${offset}) is not JSON (${reason}); ` +
        (movedTo
          ? `the segment is moved to ${movedTo} and none of its lines is delivered: fix or delete the line, ` +
            'then move it back into the spool folder to deliver it at the next start'
          : 'it could not be moved aside and stays in place'),
    );
    this.name = 'UnreadableSpoolSegmentError';
    this.line = line;
  }
}

/** What a spool segment holds: its lines, and the torn last line a crash left, if any. */
export interface ParsedSegment {
  lines: StoredLine[];
  /** Where the torn last line starts, and its length in bytes. */
  torn: { offset: number; bytes: number } | null;
}

/**
 * Reads a spool segment's bytes. A last line with no newline after it that is not JSON is torn (see
 * TornSpoolTailError) and left out; any other line that is not JSON is an error.
 * @throws SegmentLineError naming the first line that is not JSON, by number and byte offset
 */
export function parseSegment(bytes: Buffer): ParsedSegment {
  const lines: StoredLine[] = [];
  let offset = 0;
  let number = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf(10, offset);
    const last = end === -1;
    const text = bytes.toString('utf8', offset, last ? bytes.length : end);
    number++;
    if (text.trim() !== '') {
      try {
        lines.push(JSON.parse(text) as StoredLine);
      } catch (err) {
        if (last) return { lines, torn: { offset, bytes: bytes.length - offset } };
        throw new SegmentLineError(number, offset, (err as Error).message);
      }
    }
    if (last) break;
    offset = end + 1;
  }
  return { lines, torn: null };
}

/** A line of a segment that is not JSON, by its number (from 1) and byte offset; the file is the caller's. */
export class SegmentLineError extends EcomflowError {
  constructor(
    readonly line: number,
    readonly offset: number,
    readonly reason: string,
  ) {
    super('spool_line_not_json', `line ${line} (byte ${offset}) is not JSON: ${reason}`);
    this.name = 'SegmentLineError';
  }
}

/** Lines a spool folder holds, accepted and not yet delivered, by delivery stream. */
export function spooledLines(spoolDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  let files: string[];
  try {
    files = readdirSync(spoolDir).filter((f) => f.endsWith('.ndjson'));
  } catch {
    return counts;
  }
  for (const file of files) {
    const stream = SEGMENT_NAME.exec(file)?.[1] ?? file;
    let text: string;
    try {
      text = readFileSync(join(spoolDir, file), 'utf8');
    } catch {
      continue; // delivered and deleted while we read
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '').length;
    counts.set(stream, (counts.get(stream) ?? 0) + lines);
  }
  return counts;
}

/** Where each delivery stream delivers, as the two Firehose streams of serverless.yml do on AWS. */
export interface LocalDeliveryOptions {
  lake: { stream: string; s3: S3Client; bucket: string; prefix: string };
  /**
   * The warehouse, and where lines it refuses as data go: Firehose's Redshift destination moves what its
   * COPY keeps failing to an `errors/` prefix of its S3 bucket, and so does this one, per line.
   */
  warehouse: { stream: string; warehouse: PgWarehouse; errors?: { bucket: string; prefix: string } };
  /** Attempts at a batch the warehouse refuses as data before it is split, and a line moved to errors. */
  refusedAttempts?: number;
  /** Buffering hints: flush when this many bytes are buffered... */
  bufferBytes?: number;
  /** ...or this long after the first record arrived. AWS's minimum is 60 s; locally 5 s keeps the demo live. */
  bufferMs?: number;
  onError?: (err: Error) => void;
  /** Accepted records wait here on disk until delivered. */
  spoolDir: string;
}

/** Lake key prefix for a line's event-time partition, as Firehose's dynamic partitioning writes it. */
export function lakePartitionPrefix(prefix: string, invoiceDate: string): string {
  return `${prefix}${lakePartition(invoiceDate)}`;
}

interface StreamBuffer {
  /** Lines buffered: they are read back from the segment when delivered, not kept in memory. */
  lines: number;
  bytes: number;
  timer: NodeJS.Timeout | null;
  /** The spool segment holding these records on disk until they are delivered. */
  segment: string;
}

/**
 * The local Firehose delivery: what sits behind `startFirehoseServer`'s `deliver`. It buffers each
 * stream's records by size and time, then:
 * - lake: writes one Parquet object per event-time partition (`year=/month=/day=`) into the local S3, the
 *   record format conversion and dynamic partitioning that Firehose does on AWS;
 * - warehouse: COPYs the lines into `raw.invoice_lines`, as Firehose's Redshift destination does.
 *
 * Durability, as Firehose has it: every accepted record is appended to a spool segment on disk before
 * PutRecordBatch answers, and a segment is deleted only once its lines are delivered. `recover()` delivers
 * what a crash (or a Ctrl-C that stopped PostgreSQL first) left behind. Like Firehose it is at-least-once:
 * a line delivered twice is stored twice, and readers dedupe by line_id.
 */
export class LocalFirehoseDelivery {
  private readonly buffers = new Map<string, StreamBuffer>();
  private readonly bufferBytes: number;
  private readonly bufferMs: number;
  private chain: Promise<void> = Promise.resolve();
  private sequence = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly retries: Delivery[] = [];
  private readonly refusedAttempts: number;
  delivered = { lake: 0, warehouse: 0 };
  /** Lines the warehouse refused as data, moved to the errors prefix. */
  diverted = 0;
  /** The last line moved there, for GET /health's detail. */
  private lastDiverted: { line_id: string; object: string; error: string; at: string } | null = null;

  constructor(private readonly options: LocalDeliveryOptions) {
    this.bufferBytes = options.bufferBytes ?? 5 * 1024 * 1024;
    this.bufferMs = options.bufferMs ?? 5_000;
    this.refusedAttempts = options.refusedAttempts ?? DEFAULT_REFUSED_ATTEMPTS;
    // The spool holds accepted lines: this user's only.
    mkdirSync(options.spoolDir, { recursive: true, mode: STATE_DIR_MODE });
    chmodSync(options.spoolDir, STATE_DIR_MODE);
  }

  /**
   * What GET /health reports of the deliveries: lines delivered to each destination, batches waiting for a
   * retry, and the lines the warehouse kept refusing, which were set aside under the errors prefix (as
   * Firehose does after its retry window) so that the lines after them go on.
   */
  health(): {
    delivered: { lake: number; warehouse: number };
    retrying_batches: number;
    refused_lines: number;
    last_refused: { line_id: string; object: string; error: string; at: string } | null;
  } {
    return {
      delivered: { ...this.delivered },
      retrying_batches: this.retries.length,
      refused_lines: this.diverted,
      last_refused: this.lastDiverted,
    };
  }

  /**
   * Delivers the spool segments a previous run left behind, and resolves to the number of lines.
   * A torn last line (a crash during an append) is dropped and reported; a segment with a line in the
   * middle that is not JSON is reported and moved to SPOOL_UNREADABLE_DIR, and the other segments are
   * still delivered. Both reports go to `onError` as SpoolSegmentErrors, naming the file.
   */
  async recover(): Promise<number> {
    let lines = 0;
    for (const file of readdirSync(this.options.spoolDir)
      .filter((f) => f.endsWith('.ndjson'))
      .sort()) {
      // `<stream>.<ms>-<sequence>.ndjson`; a stream name may itself contain dots.
      const stream = SEGMENT_NAME.exec(file)?.[1] ?? file;
      if (stream !== this.options.lake.stream && stream !== this.options.warehouse.stream) {
        // Not this configuration's: keep it on disk rather than deliver it to the wrong place.
        this.options.onError?.(
          new Error(`spool segment ${file} is for no configured delivery stream; left in place`),
        );
        continue;
      }
      this.enqueue({
        stream,
        segment: join(this.options.spoolDir, file),
        refused: 0,
        onRead: (n) => {
          lines += n;
        },
      });
    }
    await this.chain;
    return lines;
  }

  /**
   * A segment's lines, read when its turn to be delivered comes. A torn last line (a crash during an
   * append) is dropped and reported; a segment with a line in the middle that is not JSON is reported
   * and set aside, and has no lines to deliver.
   */
  private readSegment(segment: string): StoredLine[] {
    let parsed: ParsedSegment;
    try {
      parsed = parseSegment(readFileSync(segment));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      if (!(err instanceof SegmentLineError)) throw err;
      this.options.onError?.(
        new UnreadableSpoolSegmentError(
          segment,
          err.line,
          err.offset,
          err.reason,
          this.setAside(basename(segment)),
        ),
      );
      return [];
    }
    if (parsed.torn) {
      this.options.onError?.(
        new TornSpoolTailError(segment, parsed.torn.offset, parsed.torn.bytes, parsed.lines.length),
      );
    }
    return parsed.lines;
  }

  /** Moves a segment into the unreadable folder; where it went, or null when it could not be moved. */
  private setAside(file: string): string | null {
    const folder = join(this.options.spoolDir, SPOOL_UNREADABLE_DIR);
    try {
      mkdirSync(folder, { recursive: true });
      renameSync(join(this.options.spoolDir, file), join(folder, file));
      return join(folder, file);
    } catch {
      return null;
    }
  }

  /** The `deliver` callback of the Firehose endpoint: spool, buffer, maybe flush. */
  readonly deliver = (stream: string, records: Buffer[]): void => {
    if (stream !== this.options.lake.stream && stream !== this.options.warehouse.stream) {
      throw new Error(`no local delivery is configured for Firehose stream ${stream}`);
    }
    let buffer = this.buffers.get(stream);
    if (!buffer) {
      buffer = { lines: 0, bytes: 0, timer: null, segment: this.newSegment(stream) };
      this.buffers.set(stream, buffer);
    }
    appendFileSync(
      buffer.segment,
      Buffer.concat(records.flatMap((r) => (r.at(-1) === 10 ? [r] : [r, NEWLINE]))),
    );
    for (const record of records) {
      buffer.lines += countLines(record);
      buffer.bytes += record.length;
    }
    if (buffer.bytes >= this.bufferBytes) {
      void this.flushStream(stream);
    } else if (!buffer.timer && buffer.lines > 0) {
      buffer.timer = setTimeout(() => void this.flushStream(stream), this.bufferMs);
    }
  };

  /** Delivers everything buffered, and waits for deliveries under way. */
  async flush(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const stream of [...this.buffers.keys()]) void this.flushStream(stream);
    for (const retry of this.retries.splice(0)) this.enqueue(retry);
    await this.chain;
  }

  /**
   * At shutdown: delivers everything buffered, like flush(). A delivery that fails now stays in the
   * spool for the next start, and no retry is scheduled: a pending timer would keep the process alive
   * after every part has stopped.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private flushStream(stream: string): Promise<void> {
    const buffer = this.buffers.get(stream);
    if (!buffer) return this.chain;
    if (buffer.timer) clearTimeout(buffer.timer);
    this.buffers.delete(stream);
    return this.enqueue({ stream, segment: buffer.segment, refused: 0 });
  }

  /**
   * Deliveries run one after another so that a flush at shutdown waits for all of them. What waits in the
   * queue is its segment's name: the lines are read from it when its turn comes, so a backlog (a burst the
   * warehouse is slower than) waits on disk, not in memory.
   */
  private enqueue(delivery: Delivery): Promise<void> {
    const { stream, segment, refused } = delivery;
    let lines = delivery.lines;
    this.chain = this.chain
      .then(async () => {
        lines ??= this.readSegment(segment);
        delivery.onRead?.(lines.length);
        if (lines.length > 0) {
          if (stream === this.options.lake.stream) await this.toLake(lines);
          else await this.toWarehouse(lines);
        }
        rmSync(segment, { force: true });
      })
      .catch(async (err: Error) => {
        // A store that is down is retried until it is back, as Firehose does within its retry window. A
        // batch the warehouse refuses as data would be refused for ever: after `refusedAttempts` it is
        // split in halves, each retried alone, so the good lines arrive; a single line still refused goes
        // to the errors prefix, as Firehose's Redshift destination does after its retry duration.
        const asData = stream === this.options.warehouse.stream && isDataRefusal(err);
        const attempts = asData ? refused + 1 : 0;
        if (asData && attempts >= this.refusedAttempts) {
          const handled = await this.isolate(stream, lines ?? this.readSegment(segment), segment, err).then(
            () => true,
            (cause: Error) => {
              this.options.onError?.(cause);
              return false;
            },
          );
          if (handled) return;
        }
        this.options.onError?.(err);
        this.retries.push({ stream, segment, refused: attempts });
        if (this.stopped) return;
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = null;
          for (const retry of this.retries.splice(0)) this.enqueue(retry);
        }, this.bufferMs);
      });
    return this.chain;
  }

  /** A new spool segment's path, `<stream>.<ms>-<sequence>.ndjson` (SEGMENT_NAME reads the stream back). */
  private newSegment(stream: string): string {
    return join(
      this.options.spoolDir,
      `${stream}.${Date.now()}-${String(++this.sequence).padStart(6, '0')}.ndjson`,
    );
  }

  /** Splits a refused batch into two spooled halves, or moves a refused line to the errors prefix. */
  private async isolate(stream: string, lines: StoredLine[], segment: string, err: Error): Promise<void> {
    if (lines.length > 1) {
      const half = Math.ceil(lines.length / 2);
      // Each half is spooled before the whole is removed: a crash in between delivers lines twice
      // (at-least-once, as before), never loses one.
      const halves = [lines.slice(0, half), lines.slice(half)].map((part) => {
        const file = this.newSegment(stream);
        appendFileSync(file, part.map((l) => `${JSON.stringify(l)}\n`).join(''), { mode: STATE_FILE_MODE });
        return { part, file };
      });
      rmSync(segment, { force: true });
      for (const { part, file } of halves)
        void this.enqueue({ stream, segment: file, refused: 0, lines: part });
      return;
    }
    const errors = this.options.warehouse.errors;
    if (!errors)
      throw new Error(
        `the warehouse keeps refusing a line and no errors prefix is configured: ${err.message}`,
      );
    const [line] = lines;
    const day = new Date().toISOString().slice(0, 10);
    const key = `${errors.prefix}${stream}/${day}/${line?.line_id ?? 'empty'}.json`;
    await this.options.lake.s3.send(
      new PutObjectCommand({
        Bucket: errors.bucket,
        Key: key,
        Body: `${JSON.stringify({ line, error: { code: (err as { code?: string }).code ?? null, message: err.message } })}\n`,
        ContentType: 'application/json',
      }),
    );
    rmSync(segment, { force: true });
    this.diverted += lines.length;
    this.lastDiverted = {
      line_id: line?.line_id ?? '',
      object: `s3://${errors.bucket}/${key}`,
      error: err.message,
      at: new Date().toISOString(),
    };
    this.options.onError?.(
      new RefusedLineError(
        line?.line_id ?? '',
        `s3://${errors.bucket}/${key}`,
        `the warehouse refused line ${line?.line_id} ${this.refusedAttempts} times (${err.message}); moved to s3://${errors.bucket}/${key}, not retried`,
        { cause: err },
      ),
    );
  }

  private async toLake(lines: StoredLine[]): Promise<void> {
    const { s3, bucket, prefix } = this.options.lake;
    const byPartition = new Map<string, StoredLine[]>();
    for (const line of lines) {
      const key = lakePartitionPrefix(prefix, line.invoice_date);
      const group = byPartition.get(key);
      if (group) group.push(line);
      else byPartition.set(key, [line]);
    }
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const batch = ++this.sequence;
    for (const [partition, group] of byPartition) {
      const writer = ParquetLineWriter.inMemory();
      for (const line of group) writer.append(line);
      const body = writer.close();
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${partition}ecomflow-lake-${stamp}-${batch}-${randomUUID()}.parquet`,
          Body: body,
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
    }
    this.delivered.lake += lines.length;
  }

  private async toWarehouse(lines: StoredLine[]): Promise<void> {
    const warehouse = this.options.warehouse.warehouse;
    await warehouse.copyLines(RAW_TABLE, lines);
    this.delivered.warehouse += lines.length;
  }
}

const NEWLINE = Buffer.from('\n');

/** How often a batch the warehouse refuses as data is tried before it is split. */
export const DEFAULT_REFUSED_ATTEMPTS = 3;

interface Delivery {
  stream: string;
  segment: string;
  /** Consecutive refusals as data. */
  refused: number;
  /** The lines, when they are in memory already (a half of a split batch); else read from the segment. */
  lines?: StoredLine[];
  /** Told how many lines the segment held once it is read (recover() counts them). */
  onRead?: (lines: number) => void;
}

/**
 * Whether PostgreSQL (or Redshift) refused the rows themselves: SQLSTATE class 22, data exception (an
 * invalid byte sequence, a date out of range, a value too long), or 23, integrity. A refused connection or
 * a server shutting down has no such code: the store is down, and retrying is right.
 */
export function isDataRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}
const SEGMENT_NAME = /^(.+)\.\d+-\d+\.ndjson$/;

/** The lines of one record: its newlines, and a last line without one. */
function countLines(record: Buffer): number {
  let lines = 0;
  for (let at = record.indexOf(10); at !== -1; at = record.indexOf(10, at + 1)) lines++;
  return record.length > 0 && record.at(-1) !== 10 ? lines + 1 : lines;
}
