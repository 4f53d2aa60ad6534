import type { Rejection } from '../../src/core/clean.js';
import { type Encoding, StreamDecoder } from '../../src/core/decode.js';
import { type CleanReport, LineCleaner } from '../../src/core/line-cleaner.js';
import type { CleanLine } from '../../src/core/schema.js';

export interface CleanResult {
  report: CleanReport;
  lines: CleanLine[];
  rejections: Rejection[];
  duplicates: CleanLine[];
  encoding: string;
}

/**
 * Runs bytes through the decoder and the cleaner, in chunks of `chunkSize` bytes, the way a file is read.
 * Small chunk sizes split records, quotes and multi-byte characters across pushes.
 */
export function cleanBytes(
  bytes: Uint8Array,
  options: { chunkSize?: number; encoding?: Encoding } = {},
): CleanResult {
  const lines: CleanLine[] = [];
  const rejections: Rejection[] = [];
  const duplicates: CleanLine[] = [];
  const decoder = new StreamDecoder(options.encoding ?? 'auto');
  const cleaner = new LineCleaner(
    { line: (l) => lines.push(l), reject: (r) => rejections.push(r), duplicate: (l) => duplicates.push(l) },
    { dedupe: true },
  );
  const size = options.chunkSize ?? bytes.length;
  for (let i = 0; i < bytes.length; i += size) cleaner.push(decoder.write(bytes.subarray(i, i + size)));
  cleaner.push(decoder.end());
  cleaner.end();
  return { report: cleaner.report, lines, rejections, duplicates, encoding: decoder.encoding };
}
