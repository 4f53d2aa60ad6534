/**
 * `npx tsx bench/batch-aws.ts [file.csv.gz]`: the per-invocation figures behind docs/scaling.md, measured
 * on the real data in memory (no S3, no network): how fast the planner scans for record boundaries, and how
 * fast one range is cleaned into Parquet parts, which is what each parallel Lambda invocation does.
 * Prints a Markdown table; every figure is the median of `RUNS` runs.
 */
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { RecordBoundaryScanner } from '../src/batch/aws/ranges.js';
import { cleanStream } from '../src/batch/source.js';
import { StreamDecoder } from '../src/core/decode.js';
import { PartitionedLakeWriter } from '../src/lake/lake-writer.js';
import { ROOT } from './lib.js';

const RUNS = Number(process.env['RUNS'] ?? 3);
const path = process.argv[2] ?? join(ROOT, '..', 'shared', 'data', 'online-retail', 'online-retail.csv.gz');
const gz = readFileSync(path);
const csv = gunzipSync(gz);
const MiB = 1 << 20;

function chunks(bytes: Buffer, size = MiB): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function time<T>(run: () => Promise<T> | T): Promise<{ seconds: number; result: T }> {
  const seconds: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    result = await run();
    seconds.push((performance.now() - started) / 1000);
  }
  return { seconds: median(seconds), result: result as T };
}

/** The planner's pass: record boundaries and the encoding decision. */
const scan = await time(() => {
  const scanner = new RecordBoundaryScanner({ size: csv.length, rangeBytes: 4 * MiB });
  const decoder = new StreamDecoder('auto');
  for (const chunk of chunks(csv)) {
    scanner.push(chunk);
    if (decoder.encoding === 'undecided') decoder.write(chunk);
  }
  return scanner.end();
});

/** One range's work, as in a Lambda invocation: clean, dedupe, encode Parquet parts (kept in memory). */
async function cleanToParts(input: Buffer[], gzip: boolean) {
  let bytes = 0;
  let parts = 0;
  const lake = new PartitionedLakeWriter(
    {
      put: async (_key, body) => {
        bytes += body.byteLength;
        parts++;
      },
    },
    { prefix: 'lake/invoice_lines/', sourceId: 'bench' },
  );
  const { report } = await cleanStream(
    input,
    { line: (line) => lake.append(line), reject: () => undefined },
    { name: path, gzip, dedupe: true, afterChunk: () => lake.drain() },
  );
  await lake.finish();
  return { report, bytes, parts };
}

const plain = await time(() => cleanToParts(chunks(csv), false));
const gzipped = await time(() => cleanToParts(chunks(gz), true));

const rows = plain.result.report.rows_read;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
console.log(
  `Measured on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} (other work was running), median of ${RUNS} runs.\n`,
);
console.log('| step (one thread, in memory) | input | time | rate |');
console.log('| --- | --- | --- | --- |');
console.log(
  `| planner scan (boundaries + encoding) | ${fmt(csv.length / MiB, 1)} MiB CSV | ${scan.seconds.toFixed(2)} s | ${fmt(csv.length / MiB / scan.seconds)} MiB/s; ${scan.result.ranges.length} ranges of 4 MiB |`,
);
console.log(
  `| clean + Parquet parts, uncompressed range | ${fmt(rows)} rows, ${fmt(csv.length / MiB, 1)} MiB | ${plain.seconds.toFixed(2)} s | ${fmt(rows / plain.seconds)} rows/s, ${fmt(csv.length / MiB / plain.seconds, 1)} MiB/s |`,
);
console.log(
  `| clean + Parquet parts, gzip (one pass) | ${fmt(gz.length / MiB, 1)} MiB gzip | ${gzipped.seconds.toFixed(2)} s | ${fmt(rows / gzipped.seconds)} rows/s, ${fmt(gz.length / MiB / gzipped.seconds, 2)} MiB/s of gzip |`,
);
console.log(
  `\nParquet written: ${plain.result.parts} parts, ${fmt(plain.result.bytes / MiB, 1)} MiB (${fmt(plain.result.bytes / plain.result.report.rows_clean, 1)} bytes per line); CSV ${fmt(csv.length / rows, 1)} bytes per row, gzip ratio ${fmt(csv.length / gz.length, 1)}:1.`,
);
