import {
  compareStores,
  daysOfLines,
  daysOfRows,
  decimalOf,
  milliOf,
  type StoreDays,
} from '../../src/audit/compare.js';

const NO_PENDING = { firehoseLines: 0, deadLetters: 0, warehouseUnrefreshed: 0 };
const AT = new Date('2026-12-03T12:00:00Z');

function line(id: string, invoice: string, day: string, total: number) {
  return { line_id: id, invoice_no: invoice, invoice_date: `${day}T10:00:00Z`, line_total: total };
}

describe('decimals in thousandths', () => {
  it.each([
    ['12.345', 12345],
    ['-1.5', -1500],
    ['0.000', 0],
    ['7', 7000],
    ['-0.001', -1],
  ])('reads %s as %i and writes it back with three places', (text, milli) => {
    expect(milliOf(text)).toBe(milli);
    expect(milliOf(decimalOf(milli))).toBe(milli);
  });

  it('rounds numbers to thousandths and refuses what is not a decimal', () => {
    expect(milliOf(2.55 * 3)).toBe(7650);
    expect(milliOf(null)).toBe(0);
    expect(() => milliOf('12,5')).toThrow(RangeError);
  });
});

describe('daysOfLines', () => {
  it('counts each line_id once, invoices per day, and sums exactly', () => {
    const days = daysOfLines([
      line('a', '1', '2011-01-05', 0.1),
      line('b', '1', '2011-01-05', 0.2),
      line('a', '1', '2011-01-05', 0.1),
      line('c', '2', '2011-01-06', -3.5),
    ]);
    expect(days).toEqual(
      new Map([
        ['2011-01-05', { lines: 2, invoices: 1, totalMilli: 300 }],
        ['2011-01-06', { lines: 1, invoices: 1, totalMilli: -3500 }],
      ]),
    );
  });
});

describe('compareStores', () => {
  const lake: StoreDays = daysOfRows([
    { invoice_day: '2011-01-05', lines: '3', invoices: '2', total: '10.500' },
    { invoice_day: '2011-01-06', lines: 1, invoices: 1, total: '2.000' },
  ]);

  it('agrees when every store has the same figures for every day', () => {
    const report = compareStores({
      stores: { lake, warehouse: new Map(lake), dynamodb: new Map(lake) },
      quarantine: [],
      pending: NO_PENDING,
      ranAt: AT,
    });
    expect(report).toMatchObject({
      agrees: true,
      days: 2,
      agreeing: 2,
      disagreements: [],
      ranAt: AT.toISOString(),
    });
    expect(report.totals.lake).toEqual({ lines: 4, invoices: 3, total: '12.500' });
  });

  it('names the day a store lacks a line, with the line and its total as the difference', () => {
    const dynamodb = new Map(lake);
    dynamodb.set('2011-01-05', { lines: 2, invoices: 2, totalMilli: 8000 });
    const report = compareStores({
      stores: { lake, warehouse: new Map(lake), dynamodb },
      quarantine: [],
      pending: NO_PENDING,
      ranAt: AT,
    });
    expect(report.agrees).toBe(false);
    expect(report.disagreements).toEqual([
      {
        day: '2011-01-05',
        figures: {
          lake: { lines: 3, invoices: 2, total: '10.500' },
          warehouse: { lines: 3, invoices: 2, total: '10.500' },
          dynamodb: { lines: 2, invoices: 2, total: '8.000' },
        },
        differences: [{ store: 'dynamodb', lines: -1, invoices: 0, total: '-2.500' }],
      },
    ]);
  });

  it('counts a day only one store holds as a disagreement, and --since leaves earlier days out', () => {
    const warehouse = new Map(lake);
    warehouse.delete('2011-01-06');
    const stores = { lake, warehouse, dynamodb: new Map(lake) };
    const all = compareStores({ stores, quarantine: [], pending: NO_PENDING, ranAt: AT });
    expect(all.disagreements.map((d) => [d.day, d.differences])).toEqual([
      ['2011-01-06', [{ store: 'warehouse', lines: -1, invoices: -1, total: '-2.000' }]],
    ]);
    const since = compareStores({
      stores,
      since: '2011-01-07',
      quarantine: [],
      pending: NO_PENDING,
      ranAt: AT,
    });
    expect(since).toMatchObject({ agrees: true, days: 0, since: '2011-01-07' });
  });
});
