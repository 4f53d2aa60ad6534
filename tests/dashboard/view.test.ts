import { TOP_PRODUCTS } from '../../src/dashboard/contract.js';
import { FilterError } from '../../src/dashboard/errors.js';
import {
  ALL_COUNTRIES,
  addDays,
  DASHBOARD_PARTS,
  dashboardView,
  isCurrentSnapshot,
  MAX_COUNTRY_LENGTH,
  parseDashboardFilter,
} from '../../src/dashboard/view.js';
import {
  aCancellationsRow,
  aDailyRow,
  aMonthlyRow,
  anAuditReport,
  anRfmRow,
  aProductRow,
  aSnapshot,
} from '../helpers/dashboard.js';

describe('dashboardView: daily revenue', () => {
  it('sums every country of a day, in thousandths, so 0.1 + 0.2 is 0.3', () => {
    // Prepare
    const snapshot = aSnapshot({
      dailyCountryRevenue: [
        aDailyRow({ day: '2011-11-14', country: 'France', revenue: 0.1 }),
        aDailyRow({ day: '2011-11-14', country: 'Germany', revenue: 0.2 }),
        aDailyRow({ day: '2011-11-13', country: 'France', revenue: 5 }),
      ],
    });
    // Act
    const view = dashboardView(snapshot, null, {}, []);
    // Assess
    expect(view.revenue.daily).toEqual([
      { day: '2011-11-13', revenue: 5 },
      { day: '2011-11-14', revenue: 0.3 },
    ]);
    expect(view.revenue.total).toBe(5.3);
  });

  it('keeps the days in [from, to] and the chosen country only', () => {
    const snapshot = aSnapshot({
      dailyCountryRevenue: [
        aDailyRow({ day: '2011-11-01', country: 'France', revenue: 1 }),
        aDailyRow({ day: '2011-11-02', country: 'France', revenue: 2 }),
        aDailyRow({ day: '2011-11-02', country: 'Netherlands', revenue: 40 }),
        aDailyRow({ day: '2011-11-03', country: 'France', revenue: 3 }),
        aDailyRow({ day: '2011-11-04', country: 'France', revenue: 4 }),
      ],
    });
    const view = dashboardView(
      snapshot,
      null,
      { from: '2011-11-02', to: '2011-11-03', country: 'France' },
      [],
    );
    expect(view.revenue.daily.map((d) => d.day)).toEqual(['2011-11-02', '2011-11-03']);
    expect(view.revenue.total).toBe(5);
    // The controls still list every country and the whole day range.
    expect(view.countries).toEqual(['France', 'Netherlands']);
    expect(view.days).toEqual({ first: '2011-11-01', last: '2011-11-04' });
  });

  it('totals the last 7 and 30 days ending on the range last day with sales', () => {
    // Prepare: one sale a day for 40 days ending 2011-12-09, each worth its index; the range ends later.
    const last = '2011-12-09';
    const rows = Array.from({ length: 40 }, (_, i) => aDailyRow({ day: addDays(last, -i), revenue: i + 1 }));
    // Act
    const view = dashboardView(aSnapshot({ dailyCountryRevenue: rows }), null, { to: '2011-12-31' }, []);
    // Assess: days 1..7 and 1..30 of the count back from the last day.
    expect(view.revenue.last7Days).toBe(28);
    expect(view.revenue.last30Days).toBe(465);
    expect(view.revenue.total).toBe(820);
  });

  it('answers zeros and empty tiles where the filter keeps nothing', () => {
    const snapshot = aSnapshot({ dailyCountryRevenue: [aDailyRow({ day: '2011-11-14' })] });
    const view = dashboardView(snapshot, null, { from: '2012-01-01' }, []);
    expect(view.revenue).toEqual({ daily: [], total: 0, last7Days: 0, last30Days: 0 });
    expect(view.lastMonthUnits).toEqual({ month: null, products: [] });
  });
});

describe('dashboardView: products', () => {
  it(`ranks the top ${TOP_PRODUCTS} by revenue summed over months and countries, ties by stock code`, () => {
    // Prepare: 20 products; B and A tie; C is spread over two months and two countries.
    const rows = [
      aProductRow({ stock_code: 'C', month: '2011-10-01', country: 'France', revenue: 600, units: 1 }),
      aProductRow({ stock_code: 'C', month: '2011-11-01', country: 'Germany', revenue: 400.5, units: 2 }),
      aProductRow({ stock_code: 'B', revenue: 900, units: 3 }),
      aProductRow({ stock_code: 'A', revenue: 900, units: 4 }),
      ...Array.from({ length: 17 }, (_, i) => aProductRow({ stock_code: `P${100 + i}`, revenue: 10 + i })),
    ];
    // Act
    const { topProducts } = dashboardView(aSnapshot({ productCountrySales: rows }), null, {}, []);
    // Assess
    expect(topProducts).toHaveLength(TOP_PRODUCTS);
    expect(topProducts.slice(0, 3)).toEqual([
      { rank: 1, stock_code: 'C', description: 'REGENCY CAKESTAND 3 TIER', units: 3, revenue: 1000.5 },
      { rank: 2, stock_code: 'A', description: 'REGENCY CAKESTAND 3 TIER', units: 4, revenue: 900 },
      { rank: 3, stock_code: 'B', description: 'REGENCY CAKESTAND 3 TIER', units: 3, revenue: 900 },
    ]);
    expect(topProducts[TOP_PRODUCTS - 1]!.stock_code).toBe('P105');
  });

  it('takes the months the range touches, whole, for month tiles', () => {
    const rows = [
      aProductRow({ stock_code: 'X', month: '2011-09-01', revenue: 1 }),
      aProductRow({ stock_code: 'Y', month: '2011-10-01', revenue: 2 }),
      aProductRow({ stock_code: 'Z', month: '2011-11-01', revenue: 3 }),
    ];
    const view = dashboardView(
      aSnapshot({ productCountrySales: rows }),
      null,
      { from: '2011-10-31', to: '2011-11-01' },
      [],
    );
    expect(view.topProducts.map((p) => p.stock_code)).toEqual(['Z', 'Y']);
  });

  it("gives last month's units per product: the range's last month, every country summed", () => {
    const rows = [
      aProductRow({ stock_code: 'A', month: '2011-12-01', country: 'France', units: 5 }),
      aProductRow({ stock_code: 'A', month: '2011-12-01', country: 'Germany', units: 7 }),
      aProductRow({ stock_code: 'B', month: '2011-12-01', units: 20, description: null }),
      aProductRow({ stock_code: 'C', month: '2011-11-01', units: 99 }),
    ];
    const snapshot = aSnapshot({ productCountrySales: rows });
    expect(dashboardView(snapshot, null, {}, []).lastMonthUnits).toEqual({
      month: '2011-12-01',
      products: [
        { stock_code: 'B', description: null, units: 20 },
        { stock_code: 'A', description: 'REGENCY CAKESTAND 3 TIER', units: 12 },
      ],
    });
    expect(dashboardView(snapshot, null, { to: '2011-11-30' }, []).lastMonthUnits.month).toBe('2011-11-01');
  });
});

describe('dashboardView: one snapshot, many filters', () => {
  it('answers each filter the same however many filters were answered from the snapshot before', () => {
    // Prepare: the route keeps one parsed snapshot and answers every request from it.
    const snapshot = aSnapshot({
      productCountrySales: [
        aProductRow({ stock_code: 'A', country: 'France', revenue: 1.1, units: 1 }),
        aProductRow({ stock_code: 'A', country: 'Germany', revenue: 2.2, units: 2 }),
        aProductRow({ stock_code: 'B', country: 'Germany', month: '2011-12-01', revenue: 5, units: 5 }),
      ],
    });
    const france = () => dashboardView(snapshot, null, { country: 'France' }, []);
    const all = () => dashboardView(snapshot, null, {}, []);
    // Act
    const first = france();
    const everyCountry = all();
    const again = [france(), all()];
    // Assess
    expect(again).toEqual([first, everyCountry]);
    expect(first.topProducts.map((p) => [p.stock_code, p.revenue])).toEqual([['A', 1.1]]);
    expect(everyCountry.topProducts.map((p) => [p.stock_code, p.revenue])).toEqual([
      ['B', 5],
      ['A', 3.3],
    ]);
  });
});

describe('dashboardView: country and month, cancellations, segments', () => {
  it('gives revenue by month and country, summed exactly', () => {
    const rows = [
      aMonthlyRow({ month: '2011-11-01', country: 'Netherlands', revenue: 0.1 }),
      aMonthlyRow({ month: '2011-11-01', country: 'Netherlands', revenue: 0.2 }),
      aMonthlyRow({ month: '2011-10-01', country: 'France', revenue: 3 }),
    ];
    const view = dashboardView(aSnapshot({ monthlyCountryRevenue: rows }), null, {}, []);
    expect(view.revenueByCountryMonth).toEqual([
      { month: '2011-10-01', country: 'France', revenue: 3 },
      { month: '2011-11-01', country: 'Netherlands', revenue: 0.3 },
    ]);
  });

  it('rates cancellations over every country of a month without a country, as lines over lines', () => {
    // Prepare: 1 of 4 lines and 3 of 6: the month's rate is 4/10, not the mean of 1/4 and 1/2.
    const rows = [
      aCancellationsRow({ country: 'France', cancelled_lines: 1, product_lines: 4, cancelled_value: 0.1 }),
      aCancellationsRow({ country: 'Germany', cancelled_lines: 3, product_lines: 6, cancelled_value: 0.2 }),
    ];
    const snapshot = aSnapshot({ cancellations: rows });
    // Act
    const all = dashboardView(snapshot, null, {}, []).cancellations;
    const germany = dashboardView(snapshot, null, { country: 'Germany' }, []).cancellations;
    // Assess
    expect(all).toEqual([
      { month: '2011-11-01', country: ALL_COUNTRIES, cancelled_value: 0.3, cancellation_rate: 0.4 },
    ]);
    expect(germany).toEqual([
      { month: '2011-11-01', country: 'Germany', cancelled_value: 0.2, cancellation_rate: 0.5 },
    ]);
  });

  it('counts RFM customers and revenue by segment, for the chosen country', () => {
    const rows = [
      anRfmRow({ segment: 'champions', country: 'France', customers: 2, monetary: 100.1 }),
      anRfmRow({ segment: 'champions', country: 'Germany', customers: 3, monetary: 200.2 }),
      anRfmRow({ segment: 'lost', country: 'France', customers: 9, monetary: 5 }),
    ];
    const snapshot = aSnapshot({ rfmSegments: rows });
    expect(dashboardView(snapshot, null, {}, []).rfmSegments).toEqual([
      { segment: 'lost', customers: 9, monetary: 5 },
      { segment: 'champions', customers: 5, monetary: 300.3 },
    ]);
    expect(dashboardView(snapshot, null, { country: 'Germany' }, []).rfmSegments).toEqual([
      { segment: 'champions', customers: 3, monetary: 200.2 },
    ]);
  });
});

describe('dashboardView: health and empty states', () => {
  it('reads the warehouse counts from the snapshot and quarantine, DLQ and result from the audit', () => {
    // Prepare
    const warehouse = {
      rawLines: 541_909,
      stagingLines: 536_641,
      newestInvoiceAt: '2011-12-09T12:50:00.000Z',
      lastDeliveryAt: '2026-12-04T11:59:00.000Z',
    };
    const audit = anAuditReport({
      agrees: false,
      quarantine: [
        { reason: 'invalid_quantity', source: 'stream', quarantined: 3 },
        { reason: 'invalid_quantity', source: 'batch', quarantined: 4 },
        { reason: 'missing_field', source: 'batch', quarantined: 10 },
      ],
      pending: { firehoseLines: 0, deadLetters: 2, warehouseUnrefreshed: 0 },
    });
    // Act
    const { health } = dashboardView(aSnapshot({ warehouse }), audit, {}, []);
    // Assess
    expect(health).toEqual({
      warehouse,
      quarantinedByReason: [
        { reason: 'missing_field', quarantined: 10 },
        { reason: 'invalid_quantity', quarantined: 7 },
      ],
      deadLetters: 2,
      audit: { ranAt: audit.ranAt, agrees: false },
      unavailable: [],
    });
  });

  it('answers an empty view naming what is down when there is no snapshot', () => {
    const view = dashboardView(null, null, { country: 'France' }, [DASHBOARD_PARTS.snapshot]);
    expect(view.refreshedAt).toBeNull();
    expect(view.filter).toEqual({ country: 'France' });
    expect(view.topProducts).toEqual([]);
    expect(view.health).toEqual({
      warehouse: null,
      quarantinedByReason: null,
      deadLetters: null,
      audit: null,
      unavailable: ['snapshot'],
    });
  });
});

describe('isCurrentSnapshot', () => {
  it('takes a snapshot of this version and refuses another version or a shape without rows', () => {
    expect(isCurrentSnapshot(aSnapshot())).toBe(true);
    expect(isCurrentSnapshot({ ...aSnapshot(), version: 99 })).toBe(false);
    expect(isCurrentSnapshot({ ...aSnapshot(), rfmSegments: undefined })).toBe(false);
    expect(isCurrentSnapshot('snapshot')).toBe(false);
  });
});

describe('parseDashboardFilter', () => {
  it('reads from, to and country, and treats absent or empty ones as no bound', () => {
    expect(parseDashboardFilter(null)).toEqual({});
    expect(parseDashboardFilter({ from: '', to: '', country: '' })).toEqual({});
    expect(parseDashboardFilter({ from: '2011-02-28', to: '2011-03-01', country: 'Netherlands' })).toEqual({
      from: '2011-02-28',
      to: '2011-03-01',
      country: 'Netherlands',
    });
    expect(parseDashboardFilter({ from: '2011-11-14', to: '2011-11-14' })).toEqual({
      from: '2011-11-14',
      to: '2011-11-14',
    });
  });

  it.each([
    ['a day that does not exist', { from: '2011-02-30' }, 'from', '"2011-02-30"'],
    ['another date format', { to: '14/11/2011' }, 'to', '"14/11/2011"'],
    ['unpadded digits', { from: '2011-1-5' }, 'from', '"2011-1-5"'],
    ['from after to', { from: '2011-12-01', to: '2011-11-01' }, 'from', 'after to 2011-11-01'],
    [
      'a country too long',
      { country: 'x'.repeat(MAX_COUNTRY_LENGTH + 1) },
      'country',
      `${MAX_COUNTRY_LENGTH + 1} characters`,
    ],
  ])('refuses %s, naming the parameter', (_case, query, parameter, message) => {
    let error: unknown;
    try {
      parseDashboardFilter(query);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FilterError);
    expect(error).toMatchObject({ code: 'invalid_filter', parameter });
    expect((error as Error).message).toContain(message);
  });

  it(`takes a country of exactly ${MAX_COUNTRY_LENGTH} characters`, () => {
    const country = 'x'.repeat(MAX_COUNTRY_LENGTH);
    expect(parseDashboardFilter({ country })).toEqual({ country });
  });
});
