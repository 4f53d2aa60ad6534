import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeaderError } from '../../src/core/errors.js';
import { cleanBytes } from '../helpers/clean-bytes.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

/**
 * Golden files: each fixture's whole output (report, lines, rejections) is compared with a reviewed
 * snapshot in `<fixture>.expected.json`. Set UPDATE_GOLDEN=1 to rewrite them, then review the diff.
 */
function expectGolden(name: string, actual: unknown): void {
  const path = join(FIXTURES, `${name}.expected.json`);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, text);
  expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(path, 'utf8')));
}

describe.each(['online-retail-dirty.csv', 'online-retail-ii-bom-crlf.csv', 'data-windows-1252.csv'])(
  'golden fixture %s',
  (name) => {
    it('matches its reviewed output', () => {
      // Act
      const result = cleanBytes(fixture(name));
      // Assess
      expectGolden(name, result);
    });

    it('gives the same output whatever the chunking', () => {
      const whole = cleanBytes(fixture(name));
      for (const chunkSize of [1, 2, 3, 7, 64]) {
        expect(cleanBytes(fixture(name), { chunkSize })).toEqual(whole);
      }
    });

    it('accounts for every row', () => {
      const { report, lines, rejections, duplicates } = cleanBytes(fixture(name));
      expect(report.rows_read).toBe(report.rows_clean + report.duplicates + report.quarantined);
      expect(lines).toHaveLength(report.rows_clean);
      expect(rejections).toHaveLength(report.quarantined);
      expect(duplicates).toHaveLength(report.duplicates);
    });
  },
);

describe('the dirty fixture', () => {
  const { report, lines, rejections } = cleanBytes(fixture('online-retail-dirty.csv'));

  it('quarantines every kind of bad row with its line and field', () => {
    expect(report.by_reason).toEqual({
      missing_field: 2,
      invalid_quantity: 2,
      invalid_price: 2,
      invalid_date: 2,
      invalid_customer_id: 1,
      field_too_long: 0,
      control_character: 1,
      wrong_column_count: 2,
      malformed_row: 0,
    });
    expect(rejections.map((r) => [r.line, r.reason, r.field])).toContainEqual([
      14,
      'invalid_quantity',
      'Quantity',
    ]);
    expect(rejections.find((r) => r.raw.includes('six'))?.message).toBe(
      'line 14: Quantity "six" is not an integer',
    );
  });

  it('counts the exact duplicate once', () => {
    expect(report.duplicates).toBe(1);
    expect(lines.filter((l) => l.stock_code === '71053')).toHaveLength(1);
  });

  it('keeps a quoted line break, commas and doubled quotes inside a field', () => {
    expect(lines.find((l) => l.stock_code === '22086')?.description).toBe("PAPER CHAIN KIT\n 50'S CHRISTMAS");
    expect(lines.find((l) => l.stock_code === '22728')?.description).toBe(
      'ALARM CLOCK BAKELIKE PINK, "RETRO"',
    );
  });

  it('numbers rows by the physical line they start on, after a multi-line record', () => {
    const after = lines.find((l) => l.stock_code === '22632');
    expect(after).toBeDefined();
    expect(rejections.find((r) => r.field === 'StockCode')?.line).toBe(21);
  });
});

describe('the header', () => {
  it('is an error naming the missing columns, not a quarantine of every row', () => {
    expect(() => cleanBytes(fixture('missing-columns.csv'))).toThrow(HeaderError);
    expect(() => cleanBytes(fixture('missing-columns.csv'))).toThrow(/StockCode, UnitPrice, Country/);
  });

  it('is required even for an empty file', () => {
    expect(() => cleanBytes(new Uint8Array())).toThrow(/empty/);
  });
});

describe('both exports of the same lines', () => {
  it('give the same line ids and values', () => {
    const spark = cleanBytes(fixture('online-retail-dirty.csv')).lines.slice(0, 2);
    const uci = cleanBytes(fixture('online-retail-ii-bom-crlf.csv')).lines;
    expect(uci).toEqual(spark);
  });

  it('reads Windows-1252 when the file is not UTF-8', () => {
    const { lines, encoding } = cleanBytes(fixture('data-windows-1252.csv'));
    expect(encoding).toBe('windows-1252');
    expect(lines[1]?.description).toBe('HAND WARMER £ CAFÉ DESIGN');
  });
});
