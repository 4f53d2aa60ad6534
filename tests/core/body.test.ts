import {
  JSON_MAX_DEPTH,
  nestsDeeperThan,
  PARSE_SLICE_CHARS,
  parseBody,
  parseBodyInSlices,
  parseCsvRows,
  parseJsonRows,
  parseNdjsonRows,
} from '../../src/core/body.js';
import { BodyError, HeaderError } from '../../src/core/errors.js';
import { cleanSourceRow } from '../../src/core/row-objects.js';
import { JSON_ROWS } from '../helpers/retail-rows.js';

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

describe('parseCsvRows', () => {
  it('keeps each valid row in canonical order, whatever the header order, and re-cleans it identically', () => {
    const csv =
      'Country,Quantity,Price,Invoice,StockCode,InvoiceDate,Extra\nFrance,6,2.55,536365,85123A,2010-12-01 08:26:00,x\n';
    const { valid, rejected } = parseCsvRows(csv);
    expect(rejected).toEqual([]);
    expect(valid).toHaveLength(1);
    expect(valid[0]!.row).toEqual({
      InvoiceNo: '536365',
      StockCode: '85123A',
      Description: '',
      Quantity: '6',
      InvoiceDate: '2010-12-01 08:26:00',
      UnitPrice: '2.55',
      CustomerID: '',
      Country: 'France',
    });
    expect(cleanSourceRow(valid[0]!.row, valid[0]!.line)).toEqual(valid[0]!.clean);
  });

  it('keeps exact duplicates (they collapse downstream) and reports invalid rows by physical line', () => {
    const row = '536365,85123A,"HEART, WHITE",6,2010-12-01 08:26,2.55,17850,United Kingdom';
    const csv = `${HEADER}\n${row}\n${row}\n536365,85123A,x,6,2010-12-01 08:26,2.5555,17850,UK\n"open quote,1\n`;
    const { valid, rejected } = parseCsvRows(csv);
    expect(valid.map((v) => v.line)).toEqual([2, 3]);
    expect(valid[0]!.clean.line_id).toBe(valid[1]!.clean.line_id);
    expect(rejected.map((r) => [r.line, r.reason])).toEqual([
      [4, 'invalid_price'],
      [5, 'malformed_row'],
    ]);
  });

  it('throws HeaderError naming the missing columns', () => {
    expect(() => parseCsvRows('InvoiceNo,Description\n1,x\n')).toThrow(HeaderError);
    try {
      parseCsvRows('InvoiceNo,Description\n1,x\n');
    } catch (e) {
      expect((e as HeaderError).missing).toEqual([
        'StockCode',
        'Quantity',
        'InvoiceDate',
        'UnitPrice',
        'Country',
      ]);
    }
  });
});

describe('parseJsonRows', () => {
  it('numbers rows by position, and rejects non-objects and rows missing keys', () => {
    const rows = [
      {
        InvoiceNo: 1,
        StockCode: 'A',
        Quantity: 2,
        InvoiceDate: '2011-01-01 10:00',
        UnitPrice: 0.5,
        Country: 'Spain',
      },
      'not a row',
      { InvoiceNo: 1 },
    ];
    const { valid, rejected } = parseJsonRows(JSON.stringify(rows));
    expect(valid.map((v) => [v.line, v.row.InvoiceNo, v.clean.line_total])).toEqual([[1, '1', 1]]);
    expect(rejected.map((r) => [r.line, r.reason, r.field, r.message])).toEqual([
      [2, 'malformed_row', null, 'line 2: is string, not a row object'],
      [
        3,
        'missing_field',
        'StockCode',
        'line 3: missing required keys StockCode, Quantity, InvoiceDate, UnitPrice, Country',
      ],
    ]);
  });

  it('throws BodyError (invalid_body) for invalid JSON', () => {
    expect(() => parseJsonRows('[{')).toThrow(BodyError);
    expect(() => parseJsonRows('{"InvoiceNo": 1}')).toThrow(
      'expected a JSON array of row objects, got object',
    );
  });
});

describe('parseNdjsonRows', () => {
  it('numbers rows by physical line, skipping blank lines and rejecting lines that are not JSON', () => {
    const good = JSON.stringify({
      InvoiceNo: '9',
      StockCode: 'B',
      Quantity: '1',
      InvoiceDate: '2011-01-01T10:00:00Z',
      UnitPrice: '1',
      Country: 'Spain',
    });
    const { valid, rejected } = parseNdjsonRows(`${good}\r\n\r\n{oops\n${good}`);
    expect(valid.map((v) => v.line)).toEqual([1, 4]);
    expect(rejected.map((r) => [r.line, r.raw])).toEqual([[3, '{oops']]);
  });
});

describe('parseBody', () => {
  it('decodes bytes in the declared encoding before parsing, and takes decoded text as is', () => {
    // Prepare: a Windows-1252 description (0xE9 is é), as a shop's export has it.
    const header = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
    const row = '536365,85123A,CAF\u00c9 MUG,6,2010-12-01 08:26,2.55,17850,France';
    const bytes = Buffer.from(`${header}\n${row}\n`, 'latin1');
    // Act
    const fromBytes = parseBody(bytes, 'csv', 'windows-1252');
    const fromText = parseBody(`${header}\n${row}\n`, 'csv', 'auto');
    // Assess
    expect(fromBytes.valid.map((v) => v.clean.description)).toEqual(['CAF\u00c9 MUG']);
    expect(fromBytes).toEqual(fromText);
  });
});

describe('deeply nested JSON', () => {
  const deepArray = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it.each([10_000, 100_000])(
    'refuses a body of arrays %i levels deep as a BodyError, before parsing it',
    (levels) => {
      expect(() => parseJsonRows(deepArray(levels))).toThrow(BodyError);
      expect(() => parseJsonRows(deepArray(levels))).toThrow(`deeper than ${JSON_MAX_DEPTH} levels`);
    },
  );

  it('refuses a 10,000-level object inside a field', () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    expect(() => parseJsonRows(`[{"InvoiceNo":"536365","Description":${deep}}]`)).toThrow(BodyError);
  });

  it('quarantines a deep NDJSON line as malformed_row and keeps the others', () => {
    const good = JSON.stringify(JSON_ROWS[0]);
    const { valid, rejected } = parseNdjsonRows(`${good}\n${deepArray(5_000)}\n`);
    expect(valid).toHaveLength(1);
    expect(rejected).toEqual([expect.objectContaining({ line: 2, reason: 'malformed_row' })]);
  });

  it('counts only brackets outside strings, up to the limit exactly', () => {
    expect(nestsDeeperThan(deepArray(JSON_MAX_DEPTH))).toBe(false);
    expect(nestsDeeperThan(deepArray(JSON_MAX_DEPTH + 1))).toBe(true);
    expect(nestsDeeperThan(`["${'['.repeat(100)}\\"${'{'.repeat(100)}"]`)).toBe(false);
  });
});

describe('parseBodyInSlices', () => {
  const ROW = '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom';
  /** A CSV body over three slices, with a quoted field, an astral character and CRLF line ends. */
  function bigCsv(): string {
    const rows: string[] = [HEADER];
    for (let i = 0, length = 0; length < 3 * PARSE_SLICE_CHARS; i++) {
      const row =
        i % 7 === 0
          ? `536366,22633,"HAND WARMER, UNION JACK \u{1F600}",${i},12/1/2010 8:28,1.85,,France`
          : ROW;
      rows.push(row);
      length += row.length + 2;
    }
    return `${rows.join('\r\n')}\r\n`;
  }

  it('gives the rows and rejections parseBody gives, pausing between slices', async () => {
    // Prepare
    const body = Buffer.from(bigCsv(), 'utf8');
    const whole = parseBody(body, 'csv', 'auto');
    let pauses = 0;
    // Act
    const sliced = await parseBodyInSlices(body, 'csv', 'auto', async () => {
      pauses++;
    });
    // Assess
    expect(sliced.rejected).toEqual(whole.rejected);
    expect(sliced.valid.length).toBe(whole.valid.length);
    expect(sliced.valid.map((v) => v.clean.line_id)).toEqual(whole.valid.map((v) => v.clean.line_id));
    expect(pauses).toBe(Math.ceil(body.toString('utf8').length / PARSE_SLICE_CHARS) - 1);
  });

  it('rejoins what a slice boundary cuts, wherever it falls in a row: a CR from its LF, an astral character, a quoted field', async () => {
    // Prepare: slices of 16 characters, and every offset of the tricky row against them.
    const tricky = '536366,22633,"HAND WARMER, \u{1F600} ""UNION"" JACK",6,12/1/2010 8:28,1.85,,France\r\n';
    for (let shift = 0; shift < 16; shift++) {
      const text = `${HEADER}\r\n${'X'.repeat(shift)}${ROW}\r\n${tricky}${ROW}\r\n`;
      // Act
      const sliced = await parseBodyInSlices(text, 'csv', 'auto', async () => {}, 16);
      // Assess
      expect(sliced).toEqual(parseBody(text, 'csv', 'auto'));
    }
  });

  it('parses JSON in one call, as parseBody does', async () => {
    const body = JSON.stringify(JSON_ROWS);
    let pauses = 0;
    const parsed = await parseBodyInSlices(body, 'json', 'auto', async () => {
      pauses++;
    });
    expect(parsed).toEqual(parseBody(body, 'json', 'auto'));
    expect(pauses).toBe(0);
  });
});
