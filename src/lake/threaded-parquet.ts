import type { Worker } from 'node:worker_threads';
import type { StoredLine } from '../core/schema.js';
import { startModuleWorker } from '../worker-threads.js';
import { LineColumns, ROW_GROUP_ROWS } from './parquet.js';

type WorkerReply = { written: number } | { closed: number } | { error: string };

/**
 * Like `ParquetLineWriter`, but Parquet encoding runs on a worker thread while this thread goes on
 * parsing and cleaning: on two cores that hides most of the encoding time (see docs/benchmarks.md).
 * At most `maxInFlight` row groups wait for the worker; `drain()` lets the producer wait for room.
 */
export class ThreadedParquetFile {
  private readonly columns = new LineColumns();
  private readonly worker: Worker;
  private inFlight = 0;
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];
  private closed: Promise<number> | null = null;
  private onClosed: ((rows: number) => void) | null = null;

  constructor(
    path: string,
    private readonly groupRows = ROW_GROUP_ROWS,
    private readonly maxInFlight = 2,
  ) {
    this.worker = startModuleWorker(import.meta.url, 'parquet-worker', { workerData: { path } });
    this.worker.on('message', (reply: WorkerReply) => {
      if ('written' in reply) this.inFlight--;
      else if ('closed' in reply) this.onClosed?.(reply.closed);
      else this.failure = new Error(`Parquet worker failed: ${reply.error}`);
      this.wake();
    });
    this.worker.on('error', (err) => {
      this.failure = err;
      this.wake();
    });
  }

  append(line: StoredLine): void {
    if (this.columns.append(line, this.groupRows)) this.post();
  }

  /** Resolves when the worker has room for another row group. */
  async drain(): Promise<void> {
    while (this.inFlight >= this.maxInFlight && !this.failure) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Sends the last row group, writes the footer and stops the worker; resolves to the rows written. */
  close(): Promise<number> {
    this.closed ??= (async () => {
      this.post();
      const rows = new Promise<number>((resolve) => {
        this.onClosed = resolve;
      });
      this.worker.postMessage('close');
      const result = await Promise.race([rows, this.failed()]);
      await this.worker.terminate();
      return result;
    })();
    return this.closed;
  }

  /** Stops the worker without finishing the file (after an error upstream). */
  async abort(): Promise<void> {
    await this.worker.terminate();
  }

  private post(): void {
    const batch = this.columns.take();
    if (!batch) return;
    this.inFlight++;
    this.worker.postMessage(batch);
  }

  private failed(): Promise<never> {
    return new Promise((_, reject) => {
      const check = () => (this.failure ? reject(this.failure) : this.waiters.push(check));
      check();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
