/**
 * A streaming RFC 4180 CSV parser over decoded text.
 *
 * Push text in any chunking; complete records come out. Records without a quote take a fast path
 * (`indexOf` + `split`); quoted records go through a small state machine that handles commas, doubled
 * quotes and line breaks inside quotes. It never throws on input: a quoted field left open for longer than
 * `maxRecordChars`, or at the end of input, is cut back to its first physical line and reported as
 * `malformed`, and parsing resumes on the next line, so one stray quote cannot swallow the rest of a file.
 *
 * Why hand-written rather than a library parser (e.g. papaparse): the pipeline needs, per record, the
 * 1-based physical line it starts on and its raw source text (both go into rejection reports), recovery
 * after an unterminated quote (the library would swallow the rest of the file into one field), and the
 * same records whatever the chunking of the input (streamed S3 bodies split anywhere, even inside a CRLF).
 * On RFC 4180-valid input it reads what papaparse reads (tests/core/csv-differential.test.ts), with these
 * deliberate deviations, each pinned there: blank lines are skipped (not a record of one empty field), an
 * unterminated quote is cut back to its line instead of running to the end of input, and every record
 * carries its first physical line and raw text.
 */

export interface CsvRecord {
  /** Field values, unquoted but not trimmed. */
  fields: string[];
  /** 1-based physical line on which the record starts. */
  line: number;
  /** The record's source text without its line terminator. */
  raw: string;
  /** Set when the record could not be parsed as RFC 4180 (an unterminated quote). */
  malformed?: 'unterminated_quote';
}

export interface CsvParserOptions {
  /** A quoted field longer than this is treated as unterminated. Bounds memory on broken input. */
  maxRecordChars?: number;
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10; // \n
const CR = 13; // \r

type QuotedResult = { fields: string[]; end: number; next: number; newlines: number } | 'incomplete';

export class CsvParser {
  private pending = '';
  /** Physical line number of the first character of `pending`. */
  private pendingLine = 1;
  private readonly maxRecordChars: number;

  constructor(options: CsvParserOptions = {}) {
    this.maxRecordChars = options.maxRecordChars ?? 1 << 20;
  }

  /** Parses as much of `chunk` as forms complete records and appends them to `out`. */
  push(chunk: string, out: CsvRecord[]): void {
    this.parse(this.pending.length === 0 ? chunk : this.pending + chunk, false, out);
  }

  /** Flushes the last record (one without a trailing line break). */
  end(out: CsvRecord[]): void {
    this.parse(this.pending, true, out);
    this.pending = '';
  }

  private parse(text: string, final: boolean, out: CsvRecord[]): void {
    let pos = 0;
    let line = this.pendingLine;
    const length = text.length;
    // The next quote is looked up once and reused: searching from every line would be quadratic.
    let nextQuote = text.indexOf('"');
    while (pos < length) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) {
        if (!final) break;
        nl = length;
      }
      const lineEnd = nl > pos && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
      if (nextQuote === -1 || nextQuote >= lineEnd) {
        // Fast path: no quote on this line.
        if (lineEnd > pos && !isBlank(text, pos, lineEnd)) {
          const raw = text.slice(pos, lineEnd);
          out.push({ fields: raw.split(','), line, raw });
        }
        pos = nl + 1;
        line++;
        continue;
      }
      const result = parseQuotedRecord(text, pos, final);
      if (result === 'incomplete') {
        if (length - pos <= this.maxRecordChars) break;
      }
      if (result === 'incomplete' || result.end === -1) {
        // Unterminated quote: report the first physical line alone and carry on after it.
        const raw = text.slice(pos, lineEnd);
        out.push({ fields: raw.split(','), line, raw, malformed: 'unterminated_quote' });
        pos = nl + 1;
        line++;
        continue;
      }
      let rawEnd = result.end;
      if (rawEnd > pos && text.charCodeAt(rawEnd - 1) === CR) rawEnd--;
      out.push({ fields: result.fields, line, raw: text.slice(pos, rawEnd) });
      pos = result.next;
      line += result.newlines + 1;
    }
    this.pending = pos < length ? text.slice(pos) : '';
    this.pendingLine = line;
  }
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * Parses one record that contains a quote, starting at `start`.
 * Returns where the record's text ends (before its line break) and where the next record starts, or
 * 'incomplete' when the text runs out inside quotes and more may come; `end: -1` marks an unterminated
 * quote at the end of input.
 */
function parseQuotedRecord(text: string, start: number, final: boolean): QuotedResult {
  const fields: string[] = [];
  const length = text.length;
  let newlines = 0;
  let pos = start;
  for (;;) {
    // At the start of a field.
    if (pos < length && text.charCodeAt(pos) === QUOTE) {
      let value = '';
      let from = pos + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) {
          if (!final) return 'incomplete';
          return { fields, end: -1, next: length, newlines };
        }
        newlines += countNewlines(text, from, q);
        value += text.slice(from, q);
        if (q + 1 < length && text.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          from = q + 2;
          continue;
        }
        if (q + 1 >= length && !final) return 'incomplete';
        pos = q + 1;
        break;
      }
      // Lenient: text between a closing quote and the next delimiter is kept, as most exporters intend.
      let c = pos < length ? text.charCodeAt(pos) : LF;
      while (c !== COMMA && c !== LF && !(c === CR && isLineEnd(text, pos + 1, final))) {
        if (pos + 1 >= length && !final) return 'incomplete';
        value += text[pos];
        pos++;
        c = pos < length ? text.charCodeAt(pos) : LF;
      }
      fields.push(value);
    } else {
      // Unquoted field: up to the next comma or line end; a quote inside it is literal.
      let p = pos;
      let c = p < length ? text.charCodeAt(p) : LF;
      while (c !== COMMA && c !== LF) {
        p++;
        c = p < length ? text.charCodeAt(p) : LF;
      }
      if (p >= length && !final) return 'incomplete';
      let fieldEnd = p;
      if (c === LF && fieldEnd > pos && text.charCodeAt(fieldEnd - 1) === CR) fieldEnd--;
      fields.push(text.slice(pos, fieldEnd));
      pos = p;
    }
    // After a field: a comma continues the record, a line break or the end of input ends it.
    if (pos < length && text.charCodeAt(pos) === COMMA) {
      pos++;
      if (pos >= length && !final) return 'incomplete';
      continue;
    }
    if (pos < length && text.charCodeAt(pos) === CR) pos++;
    const end = pos < length && text.charCodeAt(pos) === LF ? pos : Math.min(pos, length);
    return { fields, end, next: end + 1, newlines };
  }
}

function isLineEnd(text: string, at: number, final: boolean): boolean {
  if (at >= text.length) return final;
  return text.charCodeAt(at) === LF;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  let i = text.indexOf('\n', from);
  while (i !== -1 && i < to) {
    n++;
    i = text.indexOf('\n', i + 1);
  }
  return n;
}

/** Quotes a field when RFC 4180 requires it. */
export function csvField(value: string): string {
  if (/[",\r\n]/.test(value) || value !== value.trim()) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** One CSV line (without terminator) from field values. */
export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',');
}
