import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type Encoding, StreamDecoder } from '../transform/decode.js';
import { type CleanReport, type CleanSink, LineCleaner } from '../transform/line-cleaner.js';
import { InputError } from './errors.js';

export interface ReadOptions {
  encoding?: Encoding;
  /** Deduplicate by line_id (batch paths do). */
  dedupe?: boolean;
  /** Called now and then with the compressed bytes read so far and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Awaited after each chunk: lets a slower sink (a worker, an upload) push back on reading. */
  afterChunk?: () => Promise<void>;
}

const CHUNK_BYTES = 1 << 20;

/**
 * Streams a `.csv` or `.csv.gz` file (gzip is detected by its magic bytes, not the name) through the
 * cleaning core into `sink`. Memory stays flat: a megabyte of input is in flight at a time.
 *
 * @throws InputError when the file cannot be read or decompressed; HeaderError / EncodingError from the core.
 */
export async function cleanFile(
  path: string,
  sink: CleanSink,
  options: ReadOptions = {},
): Promise<CleanReport> {
  const { size, gzip } = await inspect(path);
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  let input: Readable = file;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    file.on('error', (err) => gunzip.destroy(err));
    input = file.pipe(gunzip);
  }
  const decoder = new StreamDecoder(options.encoding ?? 'auto');
  const cleaner = new LineCleaner(sink, { dedupe: options.dedupe ?? true });
  try {
    for await (const chunk of input) {
      cleaner.push(decoder.write(chunk as Buffer));
      options.onProgress?.(file.bytesRead, size);
      if (options.afterChunk) await options.afterChunk();
    }
  } catch (cause) {
    // Duck-typed: zlib's errors need not share this realm's Error (they do not under jest's VM modules).
    const code = (cause as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new InputError(path, `${path}: not a valid gzip file (${(cause as Error).message})`, { cause });
    }
    throw cause;
  } finally {
    file.destroy();
  }
  cleaner.push(decoder.end());
  cleaner.end();
  return cleaner.report;
}

async function inspect(path: string): Promise<{ size: number; gzip: boolean }> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputError(path, `${path}: not a regular file`);
    const handle = await open(path, 'r');
    try {
      const magic = Buffer.alloc(2);
      await handle.read(magic, 0, 2, 0);
      return { size: info.size, gzip: magic[0] === 0x1f && magic[1] === 0x8b };
    } finally {
      await handle.close();
    }
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    const reason = (cause as Error | null)?.message ?? String(cause);
    throw new InputError(path, `cannot read ${path}: ${reason}`, { cause });
  }
}
