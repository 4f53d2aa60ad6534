/**
 * The range splitter: cleaning an object range by range must give exactly what one pass gives. The
 * scanner mirrors CsvParser's quoting, so the properties below compare against the parser and the cleaner
 * themselves, on arbitrary text and on generated UCI-shaped CSV with quoted, multi-line descriptions.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import fc from 'fast-check';
import {
  type ByteRange,
  MAX_QUOTED_RECORD_BYTES,
  RecordBoundaryScanner,
  relocateRejection,
} from '../../../src/batch/aws/ranges.js';
import { cleanStream } from '../../../src/batch/source.js';
import type { Rejection } from '../../../src/core/clean.js';
import { CsvParser, type CsvRecord, csvLine } from '../../../src/core/csv.js';
import { generateCsv } from '../../../src/core/generate.js';
import type { CleanReport } from '../../../src/core/line-cleaner.js';
import type { CleanLine } from '../../../src/core/schema.js';
import { describeWithRealData, REAL_DATA } from '../../helpers/real-data.js';

/** Scans `bytes` in chunks of `chunk` bytes. */
function scan(bytes: Uint8Array, rangeBytes: number, chunk = 7) {
  const scanner = new RecordBoundaryScanner({ size: bytes.length, rangeBytes });
  for (let i = 0; i < bytes.length; i += chunk) scanner.push(bytes.subarray(i, i + chunk));
  return scanner.end();
}

function parseAll(text: string): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  parser.push(text, out);
  parser.end(out);
  return out;
}

interface Cleaned {
  report: CleanReport;
  lines: CleanLine[];
  rejections: Rejection[];
}

/** Cleans bytes as the batch worker does: optional header prefix, then the range, through cleanStream. */
async function clean(chunks: Uint8Array[], dedupe: boolean): Promise<Cleaned> {
  const lines: CleanLine[] = [];
  const rejections: Rejection[] = [];
  const { report } = await cleanStream(
    Readable.from(chunks),
    { line: (l) => lines.push(l), reject: (r) => rejections.push(r) },
    { name: 'test', dedupe, gzip: false },
  );
  return { report, lines, rejections };
}

/** Cleans every range of `bytes` separately, as the parallel workers would, lines mapped back. */
async function cleanByRanges(
  bytes: Buffer,
  ranges: ByteRange[],
  header: Buffer,
  headerLines: number,
  dedupe: boolean,
) {
  const out: Cleaned[] = [];
  for (const range of ranges) {
    const body = bytes.subarray(range.start, range.end);
    const cleaned = await clean(range.index === 0 ? [body] : [header, body], dedupe);
    cleaned.rejections = cleaned.rejections.map((r) => relocateRejection(r, range, headerLines));
    out.push(cleaned);
  }
  return out;
}

/** A line whose description holds a newline, a comma and quotes: a record over two physical lines. */
function multiLineRow(n: number): string {
  return csvLine([
    String(580000 + n),
    '85123A',
    `LINE ONE ${n}\nLINE "TWO", STILL QUOTED`,
    '6',
    '2011-01-03 08:26:00',
    '2.55',
    '17850.0',
    'United Kingdom',
  ]);
}

const generatedCsv = fc
  .record({
    rows: fc.integer({ min: 0, max: 300 }),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    dirty: fc.constantFrom(0, 0.05),
    style: fc.constantFrom('spark' as const, 'uci' as const),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    multiLine: fc.array(fc.nat(), { maxLength: 6 }),
    trailingNewline: fc.boolean(),
  })
  .map((o) => {
    const lines = [...generateCsv({ rows: o.rows, seed: o.seed, dirty: o.dirty, style: o.style })];
    for (const [i, at] of o.multiLine.entries()) lines.splice(1 + (at % lines.length), 0, multiLineRow(i));
    const eol = o.crlf ? '\r\n' : '\n';
    const text = (o.bom ? '\ufeff' : '') + lines.join(eol) + (o.trailingNewline ? eol : '');
    return Buffer.from(text, 'utf8');
  });

describe('RecordBoundaryScanner', () => {
  it('cuts only where CsvParser starts a record: parsing range by range gives the same records', () => {
    // Arbitrary text over the characters that matter to CSV; latin1, so a byte is a character.
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' '), maxLength: 300 });
    fc.assert(
      fc.property(
        text,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 50 }),
        (t, rangeBytes, chunk) => {
          // Prepare
          const bytes = Buffer.from(t, 'latin1');
          const whole = parseAll(t);
          // Act
          const { ranges } = scan(bytes, rangeBytes, chunk);
          const pieced = ranges.flatMap((r) =>
            parseAll(bytes.subarray(r.start, r.end).toString('latin1')).map((rec) => ({
              ...rec,
              line: rec.line + r.firstLine - 1,
            })),
          );
          // Assess
          expect(pieced).toEqual(whole);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('covers the object with contiguous ranges that start on record starts, at least rangeBytes apart', () => {
    fc.assert(
      fc.property(generatedCsv, fc.integer({ min: 32, max: 4096 }), (bytes, rangeBytes) => {
        const { ranges, headerEnd } = scan(bytes, rangeBytes, 1000);
        const linesBefore = [1];
        for (const b of bytes) linesBefore.push(linesBefore.at(-1)! + (b === 0x0a ? 1 : 0));
        // Checked in plain code and asserted once: thousands of expect() calls per run would be slow.
        const wrong: string[] = [];
        if (ranges[0]?.start !== 0) wrong.push('first range does not start at 0');
        if (ranges.at(-1)?.end !== bytes.length) wrong.push('last range does not end at the size');
        for (const [i, r] of ranges.entries()) {
          const at = `range ${i} [${r.start}, ${r.end})`;
          if (r.index !== i || r.end <= r.start) wrong.push(`${at}: bad index or empty`);
          if (i > 0) {
            if (r.start !== ranges[i - 1]!.end) wrong.push(`${at}: not contiguous`);
            if (r.start < headerEnd!) wrong.push(`${at}: starts inside the header`);
            if (bytes[r.start - 1] !== 0x0a) wrong.push(`${at}: does not start after a LF`);
            // The physical line number is the count of LFs before the range, plus one.
            if (r.firstLine !== linesBefore[r.start]) wrong.push(`${at}: firstLine ${r.firstLine}`);
          }
          if (i < ranges.length - 1 && r.end - r.start < rangeBytes)
            wrong.push(`${at}: shorter than ${rangeBytes}`);
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a quoted record over the parser limit as ambiguous, and then does not split', () => {
    // Prepare: a quote opened on line 3 and never closed, followed by far more than a megabyte of lines.
    const filler = 'a,b,c\n'.repeat(Math.ceil((MAX_QUOTED_RECORD_BYTES * 1.5) / 6));
    const bytes = Buffer.from(`h1,h2,h3\nx,y,z\n1,"open,3\n${filler}`);
    // Act
    const result = scan(bytes, 64 << 10, 64 << 10);
    // Assess
    expect(result.ambiguous).toMatch(/runs over 1048576 bytes/);
    expect(result.ranges).toEqual([{ index: 0, start: 0, end: bytes.length, firstLine: 1 }]);
  });

  it('does not split before the header, and finds it after blank lines', () => {
    const bytes = Buffer.from('\n  \r\nInvoiceNo,StockCode\n1,2\n3,4\n5,6\n');
    const result = scan(bytes, 1);
    expect(result.headerEnd).toBe(bytes.indexOf('1,2'));
    expect(result.headerLines).toBe(3);
    expect(result.ranges.map((r) => r.start)).toEqual([0, bytes.indexOf('3,4'), bytes.indexOf('5,6')]);
  });
});

describe('cleaning range by range', () => {
  it('yields exactly the lines and quarantined rows (with their line numbers) of one pass', async () => {
    await fc.assert(
      fc.asyncProperty(generatedCsv, fc.integer({ min: 64, max: 4096 }), async (bytes, rangeBytes) => {
        // Prepare
        const single = await clean([bytes], false);
        const { ranges, headerEnd, headerLines } = scan(bytes, rangeBytes, 512);
        const header = bytes.subarray(0, headerEnd ?? 0);
        // Act
        const parts = await cleanByRanges(bytes, ranges, header, headerLines, false);
        // Assess
        expect(parts.flatMap((p) => p.lines)).toEqual(single.lines);
        expect(parts.flatMap((p) => p.rejections)).toEqual(single.rejections);
        expect(parts.reduce((n, p) => n + p.report.rows_read, 0)).toBe(single.report.rows_read);
      }),
      { numRuns: 150 },
    );
  });

  it('with deduplication, drops per range what one pass drops, less the duplicates that cross ranges', async () => {
    await fc.assert(
      fc.asyncProperty(generatedCsv, fc.integer({ min: 64, max: 2048 }), async (bytes, rangeBytes) => {
        const single = await clean([bytes], true);
        const { ranges, headerEnd, headerLines } = scan(bytes, rangeBytes, 512);
        const parts = await cleanByRanges(
          bytes,
          ranges,
          bytes.subarray(0, headerEnd ?? 0),
          headerLines,
          true,
        );
        const kept = parts.flatMap((p) => p.lines);
        const distinct = new Map(kept.map((l) => [l.line_id, l]));
        // The union, deduplicated as the warehouse merge does, is the single pass's lines.
        expect([...distinct.keys()].sort()).toEqual(single.lines.map((l) => l.line_id).sort());
        // Duplicates: those within ranges, plus those the merge drops because they crossed a boundary.
        const withinRanges = parts.reduce((n, p) => n + p.report.duplicates, 0);
        expect(withinRanges + (kept.length - distinct.size)).toBe(single.report.duplicates);
      }),
      { numRuns: 150 },
    );
  });
});

describeWithRealData('range by range on the real data', () => {
  it('gives the single pass its 536,641 distinct lines, in ranges of 4 MiB', async () => {
    // Prepare: the uncompressed file, in memory (48 MB).
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(REAL_DATA).pipe(createGunzip())) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    expect((await stat(REAL_DATA)).size).toBeGreaterThan(0);
    // Act
    const { ranges, headerEnd, headerLines, ambiguous } = scan(bytes, 4 << 20, 1 << 20);
    const parts = await cleanByRanges(bytes, ranges, bytes.subarray(0, headerEnd!), headerLines, true);
    // Assess
    expect(ambiguous).toBeNull();
    expect(ranges.length).toBeGreaterThanOrEqual(10);
    const ids = new Set(parts.flatMap((p) => p.lines.map((l) => l.line_id)));
    expect(ids.size).toBe(536_641);
    expect(parts.reduce((n, p) => n + p.report.rows_read, 0)).toBe(541_909);
    // Its 5,268 exact duplicates: those within ranges, plus the copies the warehouse merge drops.
    const kept = parts.reduce((n, p) => n + p.report.rows_clean, 0);
    expect(parts.reduce((n, p) => n + p.report.duplicates, 0) + (kept - ids.size)).toBe(5_268);
  }, 180_000);
});
