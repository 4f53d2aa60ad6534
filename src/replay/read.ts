import { InputError } from '../batch/errors.js';
import { cleanFile, cleanStream } from '../batch/source.js';
import { HeaderError } from '../core/errors.js';
import type { CleanSink } from '../core/line-cleaner.js';
import { REPLAY_ERROR_CODES, ReplayError } from './errors.js';

/** What the cleaning core made of a posted row: its line_id and invoice, or null for a rejected row. */
export interface RowLine {
  lineId: string;
  invoiceNo: string;
}

/** What `readRows` hands over, in file order. `row` is synchronous; `afterChunk` may wait (pacing, a full pool). */
export interface RowVisitor {
  header(raw: string): void;
  row(raw: string, line: RowLine | null): void;
  afterChunk(bytesRead: number, totalBytes: number): Promise<void>;
  /** True once the replay has failed: reading stops. */
  stopped(): boolean;
}

/** Thrown from `afterChunk` to stop the batch source early; never escapes `readRows`. */
const STOP = Symbol('stop reading');

/** The file name that reads the rows from standard input (a pipe: its size is known only once it ends). */
export const STDIN_FILE = '-';

/**
 * Reads a `.csv` or `.csv.gz` file through the batch source (the one gzip sniffing and decoding) and the
 * cleaning core, without deduplication: every data row is posted, each with what the core made of it.
 * Stops after `limit` data rows, or once `visitor.stopped()`. `file` `-` reads `stdin` as it arrives
 * (gzip detected the same way), e.g. `ecomflow generate --rows 1000 | ecomflow replay -`.
 *
 * @throws ReplayError (`bad_input`) when the file cannot be read, is empty, or its header lacks columns
 */
export async function readRows(
  file: string,
  limit: number,
  visitor: RowVisitor,
  stdin: AsyncIterable<Uint8Array> = process.stdin,
): Promise<void> {
  let sawHeader = false;
  let read = 0;
  let bytesRead = 0;
  let totalBytes = 0;
  const take = (raw: string, line: RowLine | null) => {
    if (read >= limit) return;
    read++;
    visitor.row(raw, line);
  };
  const sink: CleanSink = {
    header: (record) => {
      sawHeader = true;
      visitor.header(record.raw);
    },
    line: (line, record) => take(record.raw, { lineId: line.line_id, invoiceNo: line.invoice_no }),
    reject: (rejection) => take(rejection.raw, null),
  };
  const afterChunk = async () => {
    await visitor.afterChunk(bytesRead, totalBytes);
    if (read >= limit || visitor.stopped()) throw STOP;
  };
  try {
    if (file === STDIN_FILE) {
      await cleanStream(stdin, sink, {
        name: 'stdin',
        dedupe: false,
        onBytes: (done) => {
          bytesRead = done;
        },
        afterChunk,
      });
      totalBytes = bytesRead;
    } else {
      await cleanFile(file, sink, {
        dedupe: false,
        onProgress: (done, total) => {
          bytesRead = done;
          totalBytes = total;
        },
        afterChunk,
      });
    }
    await visitor.afterChunk(totalBytes, totalBytes);
  } catch (error) {
    if (error === STOP) return;
    if (error instanceof HeaderError) {
      const message = sawHeader ? error.message : 'the file is empty';
      const name = file === STDIN_FILE ? 'stdin' : file;
      throw new ReplayError(REPLAY_ERROR_CODES.bad_input, `${name}: ${message}`, { cause: error });
    }
    if (error instanceof InputError) {
      throw new ReplayError(REPLAY_ERROR_CODES.bad_input, error.message, { cause: error });
    }
    throw error;
  }
}
