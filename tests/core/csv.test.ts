import fc from 'fast-check';
import { CsvParser, type CsvRecord, csvLine } from '../../src/core/csv.js';

function parse(text: string, chunkSize = text.length || 1): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunkSize) parser.push(text.slice(i, i + chunkSize), out);
  parser.end(out);
  return out;
}

describe('CsvParser', () => {
  it('reads LF and CRLF, and a last line without a terminator', () => {
    expect(parse('a,b\r\nc,d\ne,f').map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
  });

  it('ignores blank lines but counts them in line numbers', () => {
    const records = parse('a\n\n  \r\nb\n');
    expect(records.map((r) => [r.fields, r.line])).toEqual([
      [['a'], 1],
      [['b'], 4],
    ]);
  });

  it('reads quoted commas, doubled quotes and line breaks', () => {
    const [record] = parse('"x, ""y""\r\nz",2\n');
    expect(record?.fields).toEqual(['x, "y"\r\nz', '2']);
    expect(record?.raw).toBe('"x, ""y""\r\nz",2');
  });

  it('keeps a quote inside an unquoted field literally', () => {
    expect(parse('12" RULER,3\n')[0]?.fields).toEqual(['12" RULER', '3']);
  });

  it('cuts an unterminated quote back to its line and carries on', () => {
    const records = parse('a,"never closed\nb,c\n');
    expect(records[0]).toMatchObject({ line: 1, raw: 'a,"never closed', malformed: 'unterminated_quote' });
    expect(records[1]).toMatchObject({ line: 2, fields: ['b', 'c'] });
  });

  it('bounds a runaway quoted field by maxRecordChars', () => {
    const parser = new CsvParser({ maxRecordChars: 100 });
    const out: CsvRecord[] = [];
    parser.push(`"${'x\n'.repeat(200)}`, out);
    expect(out[0]?.malformed).toBe('unterminated_quote');
    expect(out.length).toBeGreaterThan(1);
  });
});

const field = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é', '£', '😀', 'x') });
const record = fc.array(field, { minLength: 2, maxLength: 6 });

describe('CsvParser properties', () => {
  it('round-trips any fields through RFC 4180 quoting, in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 17 }),
        fc.boolean(),
        (records, chunk, crlf) => {
          // A record whose fields are all empty or blank is written as a blank line, which the parser skips.
          const kept = records.filter((r) => r.some((f) => f.trim() !== '' || f === ''));
          const text = kept.map(csvLine).join(crlf ? '\r\n' : '\n');
          const parsed = parse(text, chunk).map((r) => r.fields);
          expect(parsed).toEqual(kept.filter((r) => csvLine(r).trim() !== ''));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws and never loses a line on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', '\u0000', 'é') }),
        fc.integer({ min: 1, max: 9 }),
        (text, chunk) => {
          const records = parse(text, chunk);
          // Every record starts on a real line, in order.
          const lines = records.map((r) => r.line);
          expect(lines).toEqual([...lines].sort((a, b) => a - b));
          expect(new Set(lines).size).toBe(lines.length);
          for (const r of records) expect(r.line).toBeLessThanOrEqual(text.split('\n').length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
