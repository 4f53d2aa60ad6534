import { createHash } from 'node:crypto';
import type { Rejection } from '../../src/core/clean.js';
import { cleanRow, isRejection, parseInteger, parseInvoiceDate, parseMilli } from '../../src/core/clean.js';
import { CANONICAL_COLUMNS } from '../../src/core/row-objects.js';
import {
  type CleanLine,
  FIELD_MAX_BYTES,
  INVOICE_YEARS,
  SOURCE_VALUE_MAX_CHARS,
} from '../../src/core/schema.js';

/** A canonical-order row with sensible defaults; override what a test is about. */
function row(
  overrides: Partial<
    Record<'no' | 'stock' | 'desc' | 'qty' | 'date' | 'price' | 'cust' | 'country', string>
  > = {},
) {
  return [
    overrides.no ?? '536365',
    overrides.stock ?? '85123A',
    overrides.desc ?? 'WHITE HANGING HEART T-LIGHT HOLDER',
    overrides.qty ?? '6',
    overrides.date ?? '2010-12-01 08:26:00',
    overrides.price ?? '2.55',
    overrides.cust ?? '17850.0',
    overrides.country ?? 'United Kingdom',
  ];
}

function clean(fields: string[]): CleanLine {
  const result = cleanRow(fields, CANONICAL_COLUMNS, 2, fields.join(','));
  if (isRejection(result)) throw new Error(`unexpected rejection: ${result.message}`);
  return result;
}

function rejection(fields: string[]): Rejection {
  const result = cleanRow(fields, CANONICAL_COLUMNS, 7, fields.join(','));
  if (!isRejection(result)) throw new Error('expected a rejection');
  return result;
}

describe('InvoiceDate', () => {
  it.each([
    ['2010-12-01 08:26:00', '2010-12-01T08:26:00Z'],
    ['2010-12-01 08:26', '2010-12-01T08:26:00Z'],
    ['12/1/2010 8:26', '2010-12-01T08:26:00Z'],
    ['12/01/2010 08:26:09', '2010-12-01T08:26:09Z'],
    ['2010-12-01T08:26:00Z', '2010-12-01T08:26:00Z'],
    ['2010-12-01T09:26:00+01:00', '2010-12-01T08:26:00Z'],
    ['2010-12-01T03:26:00-0500', '2010-12-01T08:26:00Z'],
    ['2011-12-31T23:30:00-01:00', '2012-01-01T00:30:00Z'],
    ['2012-02-29 10:00:00', '2012-02-29T10:00:00Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseInvoiceDate(text)).toBe(iso);
  });

  it.each([
    '2011-02-29 10:00:00',
    '2010-13-01 08:26:00',
    '2010-12-01 24:00:00',
    '13/1/2010 8:26',
    '1/12/2010',
    'x',
    '',
  ])('rejects %s', (text) => {
    expect(parseInvoiceDate(text)).toBeNull();
  });
});

describe('Quantity', () => {
  it.each([
    ['6', 6],
    ['6.0', 6],
    ['-12', -12],
    ['+3', 3],
    ['0', 0],
    ['-0', 0],
    ['80995', 80995],
  ])('reads %s as %d', (text, value) => {
    expect(parseInteger(text)).toBe(value);
  });

  it.each(['6.5', 'six', '', '1e3', '2147483648', '6,0'])('rejects %s', (text) => {
    expect(parseInteger(text)).toBeNull();
    if (text !== '')
      expect(rejection(row({ qty: text }))).toMatchObject({ reason: 'invalid_quantity', field: 'Quantity' });
  });
});

describe('UnitPrice', () => {
  it.each([
    ['2.55', 2550],
    ['0.001', 1],
    ['.5', 500],
    ['5.', 5000],
    ['-11062.06', -11062060],
    ['38970', 38970000],
    ['1.2500', 1250],
  ])('reads %s as %d thousandths', (text, milli) => {
    expect(parseMilli(text)).toBe(milli);
  });

  it.each(['1.2345', '£1', '1,5', '-', '.', '1e3', 'NaN'])('rejects %s', (text) => {
    expect(parseMilli(text)).toBeNull();
  });

  it('keeps negative prices: they are bad-debt adjustments', () => {
    expect(clean(row({ no: 'A563185', stock: 'B', price: '-11062.06', qty: '1' })).unit_price).toBe(
      -11062.06,
    );
  });
});

describe('line_total', () => {
  it('is exact where floating point would drift', () => {
    // 3 * 1.1 is 3.3000000000000003 in floating point.
    expect(clean(row({ qty: '3', price: '1.1' })).line_total).toBe(3.3);
    expect(clean(row({ qty: '7', price: '0.29' })).line_total).toBe(2.03);
    expect(clean(row({ qty: '-12', price: '0.001' })).line_total).toBe(-0.012);
  });
});

describe('CustomerID', () => {
  it('reads 17850.0 and 17850 alike and empty as null', () => {
    expect(clean(row({ cust: '17850.0' })).customer_id).toBe(17850);
    expect(clean(row({ cust: '17850' })).customer_id).toBe(17850);
    expect(clean(row({ cust: '  ' })).customer_id).toBeNull();
  });

  it.each(['17850.5', 'abc', '-1'])('rejects %s', (text) => {
    expect(rejection(row({ cust: text }))).toMatchObject({
      reason: 'invalid_customer_id',
      field: 'CustomerID',
    });
  });
});

describe('flags', () => {
  it('marks C invoices as cancellations', () => {
    expect(clean(row({ no: 'C536379', qty: '-1' })).is_cancellation).toBe(true);
    expect(clean(row()).is_cancellation).toBe(false);
  });

  it.each([
    'POST',
    'DOT',
    'M',
    'm',
    'C2',
    'D',
    'S',
    'B',
    'BANK CHARGES',
    'AMAZONFEE',
    'CRUK',
    'PADS',
    'post',
  ])('marks StockCode %s as an adjustment', (stock) => {
    expect(clean(row({ stock })).is_adjustment).toBe(true);
  });

  it('marks A invoices as adjustments and products as not', () => {
    expect(clean(row({ no: 'A563186' })).is_adjustment).toBe(true);
    expect(clean(row({ stock: 'POSTAGE' })).is_adjustment).toBe(false);
  });
});

describe('required fields', () => {
  it.each([
    ['no', 'InvoiceNo'],
    ['stock', 'StockCode'],
    ['qty', 'Quantity'],
    ['date', 'InvoiceDate'],
    ['price', 'UnitPrice'],
    ['country', 'Country'],
  ] as const)('an empty %s is missing_field %s', (key, field) => {
    expect(rejection(row({ [key]: ' ' }))).toEqual(
      expect.objectContaining({
        reason: 'missing_field',
        field,
        line: 7,
        message: `line 7: ${field} is empty`,
      }),
    );
  });

  it('an empty Description becomes null', () => {
    expect(clean(row({ desc: '   ' })).description).toBeNull();
  });
});

describe('line_id', () => {
  it('is the documented SHA-256 of the normalised values', () => {
    const key = [
      '536365',
      '85123A',
      'WHITE HANGING HEART T-LIGHT HOLDER',
      '6',
      '2010-12-01T08:26:00Z',
      '2550',
      '17850',
      'United Kingdom',
    ].join('\u001f');
    const expected = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32);
    expect(clean(row()).line_id).toBe(expected);
  });

  it('is the same for either date or CustomerID format and for padding', () => {
    const a = clean(row());
    const b = clean(row({ date: '12/1/2010 8:26', cust: '17850' }));
    const c = clean(row({ desc: '  WHITE HANGING HEART T-LIGHT HOLDER ', price: '2.550' }));
    expect(b.line_id).toBe(a.line_id);
    expect(c.line_id).toBe(a.line_id);
  });

  it('differs when any value differs', () => {
    const base = clean(row()).line_id;
    for (const change of [
      { qty: '7' },
      { price: '2.56' },
      { cust: '' },
      { desc: '' },
      { country: 'France' },
      { stock: '85123a' },
    ]) {
      expect(clean(row(change)).line_id).not.toBe(base);
    }
  });
});

describe('bounded fields', () => {
  it.each([
    ['no', 'InvoiceNo', FIELD_MAX_BYTES.invoice_no],
    ['stock', 'StockCode', FIELD_MAX_BYTES.stock_code],
    ['desc', 'Description', FIELD_MAX_BYTES.description],
    ['country', 'Country', FIELD_MAX_BYTES.country],
  ] as const)(
    'quarantines a %s one byte over its bound as field_too_long, naming %s and its length',
    (key, field, bound) => {
      // Arrange
      const atBound = 'X'.repeat(bound);
      // Act
      const over = rejection(row({ [key]: `${atBound}Y` }));
      // Assess
      expect(clean(row({ [key]: atBound }))).toBeDefined();
      expect(over).toMatchObject({ reason: 'field_too_long', field, line: 7 });
      expect(over.message).toBe(`line 7: ${field} is ${bound + 1} bytes, over its bound of ${bound}`);
    },
  );

  it('counts UTF-8 bytes, not characters', () => {
    // Arrange: '€' is three bytes in UTF-8.
    const fits = '€'.repeat(Math.floor(FIELD_MAX_BYTES.description / 3));
    const over = '€'.repeat(Math.floor(FIELD_MAX_BYTES.description / 3) + 1);
    // Act
    const result = rejection(row({ desc: over }));
    // Assess
    expect(clean(row({ desc: fits })).description).toBe(fits);
    expect(result.reason).toBe('field_too_long');
    expect(result.message).toContain(`${Buffer.byteLength(over)} bytes`);
  });

  it('bounds the text of numeric and date fields, which are otherwise valid at any length', () => {
    // Arrange: a Quantity of 6 with enough leading zeros parses, but would bloat every envelope.
    const padded = `${'0'.repeat(SOURCE_VALUE_MAX_CHARS)}6`;
    // Act
    const result = rejection(row({ qty: padded }));
    // Assess
    expect(clean(row({ qty: padded.slice(1) })).quantity).toBe(6);
    expect(result).toMatchObject({ reason: 'field_too_long', field: 'Quantity' });
  });

  it('checks the trimmed value, as it is stored', () => {
    const padded = ` ${'X'.repeat(FIELD_MAX_BYTES.stock_code)} `;
    expect(clean(row({ stock: padded })).stock_code).toBe(padded.trim());
  });
});

describe('values every store can hold', () => {
  it.each([
    ['0000-01-01 00:00:00'],
    ['0001-01-01 00:00:00'],
    ['0999-12-31 23:59:59'],
    ['1899-12-31T23:59:59Z'],
    ['1/1/0001 0:00'],
    ['9999-12-31T23:00:00-05:00'],
  ])('refuses the date %s, outside INVOICE_YEARS', (date) => {
    expect(parseInvoiceDate(date)).toBeNull();
    expect(rejection(row({ date })).reason).toBe('invalid_date');
  });

  it('keeps the first and last years of INVOICE_YEARS', () => {
    expect(parseInvoiceDate(`${INVOICE_YEARS.first}-01-01 00:00:00`)).toBe(
      `${INVOICE_YEARS.first}-01-01T00:00:00Z`,
    );
    expect(parseInvoiceDate(`${INVOICE_YEARS.last}-12-31 23:59:59`)).toBe(
      `${INVOICE_YEARS.last}-12-31T23:59:59Z`,
    );
  });

  it.each([
    ['desc', 'Description', 'WHITE\u0000HEART', 'U+0000'],
    ['stock', 'StockCode', '85123A\u001fX', 'U+001F'],
    ['no', 'InvoiceNo', '536365\u0007', 'U+0007'],
    ['country', 'Country', 'United\u001bKingdom', 'U+001B'],
  ] as const)(
    'quarantines a control character in %s (%s) as control_character',
    (key, field, value, code) => {
      const r = rejection(row({ [key]: value }));
      expect(r).toMatchObject({ reason: 'control_character', field });
      expect(r.message).toContain(code);
    },
  );

  it('keeps tabs and line breaks inside a description, which every store takes', () => {
    expect(clean(row({ desc: 'TWO\tPART\nNAME' })).description).toBe('TWO\tPART\nNAME');
  });

  it('cannot give two different lines one id through the separator the id joins values with', () => {
    // (990097␟85123A, X) and (990097, 85123A␟X) would join to the same text: both are refused.
    const a = cleanRow(row({ no: '990097\u001f85123A', stock: 'X' }), CANONICAL_COLUMNS, 2, 'a');
    const b = cleanRow(row({ no: '990097', stock: '85123A\u001fX' }), CANONICAL_COLUMNS, 3, 'b');
    expect([a, b].map((r) => (isRejection(r) ? r.reason : 'clean'))).toEqual([
      'control_character',
      'control_character',
    ]);
  });
});
