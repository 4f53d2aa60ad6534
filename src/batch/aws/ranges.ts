import type { Rejection } from '../../core/clean.js';

/**
 * Splitting an uncompressed CSV object into byte ranges that can be cleaned independently and in parallel.
 *
 * A range must start where a record starts. A newline inside a quoted field is not a record boundary, and
 * no local look at the bytes around a split point can tell for sure whether it is inside quotes. So the
 * planner reads the object once, front to back, through `RecordBoundaryScanner`: a byte-level mirror of
 * `CsvParser`'s quoting rules (a quote opens a quoted field only at the start of a field, `""` inside one
 * is a literal quote, only LF ends a record). Where the scanner says a record starts, `CsvParser` run from
 * there reads exactly the records a single pass reads. Reading and scanning is many times faster than
 * cleaning (see docs/scaling.md), so the sequential scan costs a small fraction of the parallel work.
 *
 * The one case the mirror cannot follow: `CsvParser` gives up on a quoted field that runs over a megabyte
 * (a stray quote) and resumes on the next physical line. The scanner reports such a file as `ambiguous`,
 * and the planner cleans it in a single sequential pass instead.
 */

/** A quoted field this long makes `CsvParser` give up on it (its default `maxRecordChars`, 1 Mi chars). */
export const MAX_QUOTED_RECORD_BYTES = 1 << 20;

/** Where a range starts. */
export interface Boundary {
  /** Byte offset of the first byte of a record. */
  offset: number;
  /** 1-based physical line number at `offset`, as `CsvParser` numbers lines (every LF counts). */
  line: number;
}

/** One independently cleanable part of an object: bytes `[start, end)`. */
export interface ByteRange {
  index: number;
  start: number;
  end: number;
  /** Physical line number of the range's first byte. */
  firstLine: number;
}

/** The outcome of a scan. */
export interface ScanResult {
  /** Where the header record ends (the first byte after its LF); null when the input has no complete one. */
  headerEnd: number | null;
  /** Physical lines (LFs) inside the header bytes `[0, headerEnd)`. */
  headerLines: number;
  /** The ranges, covering `[0, size)` in order; one range when the input was not split. */
  ranges: ByteRange[];
  /** Why the input cannot be split safely, when it cannot (then `ranges` is the whole input). */
  ambiguous: string | null;
  /** Bytes scanned. */
  bytes: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** Just read a quote inside a quoted field: `""` goes on quoting, anything else closes the field. */
const QUOTE_IN_QUOTED = 3;

/**
 * Finds record boundaries in a byte stream and picks range starts about `rangeBytes` apart.
 *
 * @example
 * const scanner = new RecordBoundaryScanner({ size, rangeBytes: 128 << 20 });
 * for await (const chunk of body) scanner.push(chunk);
 * const { ranges } = scanner.end();
 */
export class RecordBoundaryScanner {
  private state = FIELD_START;
  private offset = 0;
  private newlines = 0;
  private recordStart = 0;
  /** Bytes of the current record other than spaces and tabs (a blank line is no record). */
  private content = 0;
  private lastByte = -1;
  /** Whether the current record has a quote anywhere (CsvParser then parses it the slow way). */
  private quoted = false;
  private headerEnd: number | null = null;
  private headerLines = 0;
  private ambiguous: string | null = null;
  private readonly starts: Boundary[] = [{ offset: 0, line: 1 }];
  private nextTarget: number;
  private readonly size: number;
  private readonly rangeBytes: number;
  private readonly minTailBytes: number;

  constructor(options: { size: number; rangeBytes: number }) {
    if (!(options.rangeBytes > 0))
      throw new RangeError(`rangeBytes must be positive, not ${options.rangeBytes}`);
    this.size = options.size;
    this.rangeBytes = options.rangeBytes;
    // A last range much smaller than the others is folded into the one before it.
    this.minTailBytes = Math.floor(options.rangeBytes / 4);
    this.nextTarget = options.rangeBytes;
  }

  push(chunk: Uint8Array): void {
    let state = this.state;
    const base = this.offset;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (state) {
        case FIELD_START:
          if (b === QUOTE) state = QUOTED;
          else if (b === LF) {
            this.recordEnd(base + i);
            continue;
          } else if (b !== COMMA) state = UNQUOTED;
          break;
        case UNQUOTED:
          if (b === COMMA) state = FIELD_START;
          else if (b === LF) {
            state = FIELD_START;
            this.recordEnd(base + i);
            continue;
          }
          break;
        case QUOTED:
          if (b === QUOTE) state = QUOTE_IN_QUOTED;
          else if (b === LF) this.newlines++;
          break;
        default:
          // QUOTE_IN_QUOTED: text after a closing quote is kept up to the next comma or line end.
          if (b === QUOTE) state = QUOTED;
          else if (b === COMMA) state = FIELD_START;
          else if (b === LF) {
            state = FIELD_START;
            this.recordEnd(base + i);
            continue;
          } else state = UNQUOTED;
      }
      if (b !== SPACE && b !== TAB) this.content++;
      if (b === QUOTE) this.quoted = true;
      this.lastByte = b;
    }
    this.state = state;
    this.offset = base + chunk.length;
  }

  /** Ends the scan; the ranges cover `[0, size)`. */
  end(): ScanResult {
    if (this.offset !== this.size) {
      throw new RangeError(`scanned ${this.offset} bytes, but the object has ${this.size}`);
    }
    if (this.quoted) this.checkLength(this.size);
    const starts = this.ambiguous === null ? this.starts : this.starts.slice(0, 1);
    const ranges = starts.map(
      (s, index): ByteRange => ({
        index,
        start: s.offset,
        end: starts[index + 1]?.offset ?? this.size,
        firstLine: s.line,
      }),
    );
    return {
      headerEnd: this.headerEnd,
      headerLines: this.headerLines,
      ranges,
      ambiguous: this.ambiguous,
      bytes: this.offset,
    };
  }

  /** The record that started at `recordStart` ends with the LF at `at`. */
  private recordEnd(at: number): void {
    this.newlines++;
    // CsvParser skips a line of spaces and tabs (a trailing CR before the LF does not count).
    const blank = !this.quoted && (this.content === 0 || (this.content === 1 && this.lastByte === CR));
    const next = at + 1;
    if (this.quoted) this.checkLength(next);
    if (this.headerEnd === null) {
      if (!blank) {
        this.headerEnd = next;
        this.headerLines = this.newlines;
      }
    } else if (next >= this.nextTarget && this.size - next > this.minTailBytes) {
      this.starts.push({ offset: next, line: this.newlines + 1 });
      this.nextTarget = next + this.rangeBytes;
    }
    this.recordStart = next;
    this.content = 0;
    this.lastByte = -1;
    this.quoted = false;
  }

  /**
   * A record with a quote that is longer than `CsvParser`'s limit may be cut short by the parser, where it
   * cuts depending on how the text arrived: such input is cleaned in one pass, never split.
   */
  private checkLength(end: number): void {
    if (end - this.recordStart > MAX_QUOTED_RECORD_BYTES && this.ambiguous === null) {
      this.ambiguous = `the record at byte ${this.recordStart} has a quote and runs over ${MAX_QUOTED_RECORD_BYTES} bytes`;
    }
  }
}

/** The range covering a whole object (no split). */
export function wholeRange(size: number): ByteRange[] {
  return [{ index: 0, start: 0, end: size, firstLine: 1 }];
}

/**
 * Maps a line number from cleaning `header + range` back to the line in the whole object: the header
 * bytes put `headerLines` lines before the range's own first line.
 * @example absoluteLine(2, { firstLine: 1001 }, 1) === 1001
 */
export function absoluteLine(
  line: number,
  range: Pick<ByteRange, 'firstLine' | 'index'>,
  headerLines: number,
): number {
  if (range.index === 0) return line;
  return line - headerLines - 1 + range.firstLine;
}

/**
 * A rejection from cleaning `header + range`, with its line (and the `line N:` its message starts with)
 * mapped back to the whole object, so the quarantine reads the same as a single pass's.
 */
export function relocateRejection(
  rejection: Rejection,
  range: Pick<ByteRange, 'firstLine' | 'index'>,
  headerLines: number,
): Rejection {
  const line = absoluteLine(rejection.line, range, headerLines);
  if (line === rejection.line) return rejection;
  const prefix = `line ${rejection.line}:`;
  const message = rejection.message.startsWith(prefix)
    ? `line ${line}:${rejection.message.slice(prefix.length)}`
    : rejection.message;
  return { ...rejection, line, message };
}
