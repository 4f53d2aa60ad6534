import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Encoding, StreamDecoder } from '../core/decode.js';
import { type CleanReport, type CleanSink, LineCleaner } from '../core/line-cleaner.js';
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

/** How `cleanStream` reads a byte stream that is not a local file (an S3 object, a byte range of one). */
export interface StreamOptions {
  /** The input in messages: a path or an `s3://` URL. */
  name: string;
  encoding?: Encoding;
  dedupe?: boolean;
  /** Decompress: `true`, `false`, or `'detect'` (the default) to look for gzip's magic bytes. */
  gzip?: boolean | 'detect';
  /** Called after each chunk with the input bytes (compressed, for gzip) consumed so far. */
  onBytes?: (bytesRead: number) => void;
  afterChunk?: () => Promise<void>;
}

/** What `cleanStream` read: the counts, the encoding the decoder settled on, and the input bytes. */
export interface StreamResult {
  report: CleanReport;
  /** `utf-8`, `windows-1252`, `latin1`, or `undecided` for pure ASCII. */
  encoding: string;
  bytesRead: number;
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
  try {
    const { report } = await cleanStream(file, sink, {
      name: path,
      gzip,
      ...(options.encoding ? { encoding: options.encoding } : {}),
      dedupe: options.dedupe ?? true,
      onBytes: () => options.onProgress?.(file.bytesRead, size),
      ...(options.afterChunk ? { afterChunk: options.afterChunk } : {}),
    });
    return report;
  } finally {
    file.destroy();
  }
}

/**
 * Streams bytes (any async iterable of chunks: a file stream, an S3 GetObject body) through the decoder
 * and the cleaning core into `sink`; `cleanFile` is this over a local file. The caller owns `input`:
 * destroy it when this throws.
 *
 * @throws InputError when gzip input is corrupt; HeaderError / EncodingError from the core.
 * @example await cleanStream(object.Body as Readable, sink, { name: 's3://raw/incoming/day.csv' })
 */
export async function cleanStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  sink: CleanSink,
  options: StreamOptions,
): Promise<StreamResult> {
  let bytesRead = 0;
  const counted = (async function* () {
    for await (const chunk of input) {
      bytesRead += chunk.byteLength;
      yield chunk;
    }
  })();
  const head = await peek(counted, 2);
  const gzip =
    options.gzip === 'detect' || options.gzip === undefined
      ? head.bytes[0] === 0x1f && head.bytes[1] === 0x8b
      : options.gzip;
  let source: AsyncIterable<Uint8Array> = head.stream;
  let gunzipped: Promise<void> | null = null;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    // pipeline() destroys both ends on failure; the error then surfaces in the loop below.
    gunzipped = pipeline(Readable.from(head.stream), gunzip).catch(() => undefined);
    source = gunzip;
  }
  const decoder = new StreamDecoder(options.encoding ?? 'auto');
  const cleaner = new LineCleaner(sink, { dedupe: options.dedupe ?? true });
  try {
    for await (const chunk of source) {
      cleaner.push(decoder.write(chunk));
      options.onBytes?.(bytesRead);
      if (options.afterChunk) await options.afterChunk();
    }
  } catch (cause) {
    // Duck-typed: zlib's errors need not share this realm's Error (they do not under jest's VM modules).
    const code = (cause as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new InputError(
        options.name,
        `${options.name}: not a valid gzip file (${(cause as Error).message})`,
        {
          cause,
        },
      );
    }
    throw cause;
  } finally {
    if (gzip) (source as ReturnType<typeof createGunzip>).destroy();
    await gunzipped;
  }
  cleaner.push(decoder.end());
  cleaner.end();
  return { report: cleaner.report, encoding: decoder.encoding, bytesRead };
}

/** The first `n` bytes of a stream (fewer if it is shorter), and the whole stream again, from the start. */
async function peek(
  input: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ bytes: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const iterator = input[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    held.push(next.value);
    length += next.value.byteLength;
  }
  const bytes = held.length === 1 ? held[0]! : Buffer.concat(held);
  const stream = (async function* () {
    yield* held;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  return { bytes: bytes.subarray(0, n), stream };
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
