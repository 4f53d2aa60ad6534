/**
 * GET /dashboard/data's answer, with no I/O: every tile's figures for one filter, summed from the
 * snapshot's mart rows (src/dashboard/contract.ts), and the pipeline's health from the snapshot and the
 * last audit. The page only draws what this returns.
 *
 * Money is summed in integer thousandths (the marts' DECIMAL(18,3)) and converted back once, so a total is
 * the exact decimal, never a float sum's drift (0.1 + 0.2 shows as 0.3).
 */
import { toMilli } from '../api/views.js';
import type { AuditReport } from '../audit/compare.js';
import {
  DASHBOARD_SNAPSHOT_VERSION,
  type DashboardFilter,
  type DashboardSnapshot,
  type DashboardView,
  TOP_PRODUCTS,
} from './contract.js';
import { FilterError } from './errors.js';

/** The `country` of a cancellations row when no country is chosen: every country of the month together. */
export const ALL_COUNTRIES = 'All countries';

/** The longest country a filter takes: the marts' VARCHAR(256). */
export const MAX_COUNTRY_LENGTH = 256;

/** The parts of an answer that can be down, as `health.unavailable` names them. */
export const DASHBOARD_PARTS = { snapshot: 'snapshot', audit: 'audit' } as const;

/** The windows of the revenue tile's totals, in days, ending on the range's last day with sales. */
export const REVENUE_WINDOWS = { short: 7, long: 30 } as const;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is a calendar day `YYYY-MM-DD` (2011-02-30 is not). */
export function isDay(text: string): boolean {
  const m = DAY.exec(text);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** `day` plus `days` (may be negative). @example addDays('2011-03-01', -1) // '2011-02-28' */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The month of a day, as its first day. @example monthOf('2011-11-14') // '2011-11-01' */
export function monthOf(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

/**
 * The filter of GET /dashboard/data's query string: `from` and `to` calendar days with from <= to, and a
 * country of at most 256 characters; each optional (absent or empty means no bound).
 * @throws FilterError naming the parameter and its value
 * @example parseDashboardFilter({ from: '2011-11-01', country: 'Netherlands' })
 */
export function parseDashboardFilter(
  query: Readonly<Record<string, string | undefined>> | null | undefined,
): DashboardFilter {
  const filter: DashboardFilter = {};
  for (const name of ['from', 'to'] as const) {
    const raw = query?.[name];
    if (raw === undefined || raw === '') continue;
    if (!isDay(raw)) {
      throw new FilterError(name, `${name} ${JSON.stringify(raw)} must be a calendar day as YYYY-MM-DD`);
    }
    filter[name] = raw;
  }
  if (filter.from && filter.to && filter.from > filter.to) {
    throw new FilterError('from', `from ${filter.from} is after to ${filter.to}`);
  }
  const country = query?.['country'];
  if (country !== undefined && country !== '') {
    if (country.length > MAX_COUNTRY_LENGTH) {
      throw new FilterError(
        'country',
        `country is ${country.length} characters; at most ${MAX_COUNTRY_LENGTH} are allowed`,
      );
    }
    filter.country = country;
  }
  return filter;
}

/**
 * Whether a parsed JSON value is a snapshot this code reads: of DASHBOARD_SNAPSHOT_VERSION, with its row
 * lists. A snapshot of another version is refused, not half-read.
 */
export function isCurrentSnapshot(value: unknown): value is DashboardSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<Record<keyof DashboardSnapshot, unknown>>;
  return (
    s.version === DASHBOARD_SNAPSHOT_VERSION &&
    typeof s.refreshedAt === 'string' &&
    typeof s.warehouse === 'object' &&
    s.warehouse !== null &&
    [
      s.dailyCountryRevenue,
      s.productCountrySales,
      s.monthlyCountryRevenue,
      s.cancellations,
      s.rfmSegments,
    ].every(Array.isArray)
  );
}

/** Sums of thousandths by key, in insertion order. */
class MilliSums<K> {
  readonly sums = new Map<K, number>();
  add(key: K, value: number): void {
    this.sums.set(key, (this.sums.get(key) ?? 0) + toMilli(value));
  }
}

const fromMilli = (milli: number) => milli / 1000;
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Every tile's figures for `filter`, from the last snapshot (null before any refresh wrote one) and the
 * last audit (null until one ran). `unavailable` names the parts that could not be read (DASHBOARD_PARTS).
 *
 * Day tiles (daily revenue, its totals) take the days in [from, to]; month tiles (products, country and
 * month, cancellations) take the months that range touches; RFM segments are not dated and take only the
 * country. Without a country, every country is summed.
 */
export function dashboardView(
  snapshot: DashboardSnapshot | null,
  audit: AuditReport | null,
  filter: DashboardFilter,
  unavailable: string[],
): DashboardView {
  const health: DashboardView['health'] = {
    warehouse: snapshot?.warehouse ?? null,
    quarantinedByReason: audit ? quarantinedByReason(audit) : null,
    deadLetters: audit?.pending.deadLetters ?? null,
    audit: audit ? { ranAt: audit.ranAt, agrees: audit.agrees } : null,
    unavailable,
  };
  if (!snapshot) {
    return {
      filter,
      refreshedAt: null,
      countries: [],
      days: null,
      revenue: { daily: [], total: 0, last7Days: 0, last30Days: 0 },
      topProducts: [],
      revenueByCountryMonth: [],
      lastMonthUnits: { month: null, products: [] },
      cancellations: [],
      rfmSegments: [],
      health,
    };
  }
  const inCountry = (row: { country: string }) => !filter.country || row.country === filter.country;
  const inDays = (row: { day: string }) =>
    (!filter.from || row.day >= filter.from) && (!filter.to || row.day <= filter.to);
  const firstMonth = filter.from ? monthOf(filter.from) : undefined;
  const lastMonth = filter.to ? monthOf(filter.to) : undefined;
  const inMonths = (row: { month: string }) =>
    (!firstMonth || row.month >= firstMonth) && (!lastMonth || row.month <= lastMonth);

  return {
    filter,
    refreshedAt: snapshot.refreshedAt,
    countries: countriesOf(snapshot),
    days: dayRange(snapshot),
    revenue: revenueTile(snapshot.dailyCountryRevenue.filter((r) => inDays(r) && inCountry(r))),
    ...productTiles(snapshot, inMonths, filter.country),
    revenueByCountryMonth: revenueByCountryMonth(
      snapshot.monthlyCountryRevenue.filter((r) => inMonths(r) && inCountry(r)),
    ),
    cancellations: cancellationsTile(
      snapshot.cancellations.filter((r) => inMonths(r) && inCountry(r)),
      filter.country !== undefined,
    ),
    rfmSegments: rfmTile(snapshot.rfmSegments.filter(inCountry)),
    health,
  };
}

function countriesOf(snapshot: DashboardSnapshot): string[] {
  const countries = new Set<string>();
  for (const r of snapshot.dailyCountryRevenue) countries.add(r.country);
  for (const r of snapshot.monthlyCountryRevenue) countries.add(r.country);
  return [...countries].sort(byText);
}

function dayRange(snapshot: DashboardSnapshot): DashboardView['days'] {
  let first: string | undefined;
  let last: string | undefined;
  for (const { day } of snapshot.dailyCountryRevenue) {
    if (first === undefined || day < first) first = day;
    if (last === undefined || day > last) last = day;
  }
  return first !== undefined && last !== undefined ? { first, last } : null;
}

function revenueTile(rows: DashboardSnapshot['dailyCountryRevenue']): DashboardView['revenue'] {
  const byDay = new MilliSums<string>();
  for (const r of rows) byDay.add(r.day, r.revenue);
  const days = [...byDay.sums.entries()].sort(([a], [b]) => byText(a, b));
  const lastDay = days[days.length - 1]?.[0];
  const windowTotal = (length: number) => {
    if (lastDay === undefined) return 0;
    const start = addDays(lastDay, 1 - length);
    return fromMilli(days.reduce((sum, [day, milli]) => (day >= start ? sum + milli : sum), 0));
  };
  return {
    daily: days.map(([day, milli]) => ({ day, revenue: fromMilli(milli) })),
    total: fromMilli(days.reduce((sum, [, milli]) => sum + milli, 0)),
    last7Days: windowTotal(REVENUE_WINDOWS.short),
    last30Days: windowTotal(REVENUE_WINDOWS.long),
  };
}

interface ProductSums {
  stock_code: string;
  description: string | null;
  units: number;
  revenueMilli: number;
}

/** productCountrySales summed by month, over every country and per country. */
interface ProductIndex {
  months: string[];
  all: Map<string, Map<string, ProductSums>>;
  byCountry: Map<string, Map<string, Map<string, ProductSums>>>;
}

/**
 * Built once per snapshot object: a snapshot of the real data holds some 67,000 product rows, and the route
 * keeps one snapshot parsed across requests, so each request merges a month's sums instead of every row.
 */
const productIndexes = new WeakMap<DashboardSnapshot, ProductIndex>();

function addProduct(into: Map<string, ProductSums>, p: ProductSums): void {
  const sums = into.get(p.stock_code);
  if (!sums) {
    into.set(p.stock_code, { ...p });
    return;
  }
  sums.description ??= p.description;
  sums.units += p.units;
  sums.revenueMilli += p.revenueMilli;
}

function productIndex(snapshot: DashboardSnapshot): ProductIndex {
  let index = productIndexes.get(snapshot);
  if (index) return index;
  index = { months: [], all: new Map(), byCountry: new Map() };
  for (const r of snapshot.productCountrySales) {
    const p = {
      stock_code: r.stock_code,
      description: r.description,
      units: r.units,
      revenueMilli: toMilli(r.revenue),
    };
    let all = index.all.get(r.month);
    let countries = index.byCountry.get(r.month);
    if (!all || !countries) {
      all = new Map();
      countries = new Map();
      index.all.set(r.month, all);
      index.byCountry.set(r.month, countries);
    }
    addProduct(all, p);
    let country = countries.get(r.country);
    if (!country) {
      country = new Map();
      countries.set(r.country, country);
    }
    addProduct(country, p);
  }
  index.months = [...index.all.keys()].sort(byText);
  productIndexes.set(snapshot, index);
  return index;
}

function productTiles(
  snapshot: DashboardSnapshot,
  inMonths: (row: { month: string }) => boolean,
  country: string | undefined,
): Pick<DashboardView, 'topProducts' | 'lastMonthUnits'> {
  const index = productIndex(snapshot);
  const months: { month: string; products: Map<string, ProductSums> }[] = [];
  for (const month of index.months) {
    if (!inMonths({ month })) continue;
    const products = country === undefined ? index.all.get(month) : index.byCountry.get(month)?.get(country);
    if (products && products.size > 0) months.push({ month, products });
  }
  const merged = new Map<string, ProductSums>();
  for (const { products } of months) for (const p of products.values()) addProduct(merged, p);
  const topProducts = [...merged.values()]
    .sort((a, b) => b.revenueMilli - a.revenueMilli || byText(a.stock_code, b.stock_code))
    .slice(0, TOP_PRODUCTS)
    .map((p, i) => ({
      rank: i + 1,
      stock_code: p.stock_code,
      description: p.description,
      units: p.units,
      revenue: fromMilli(p.revenueMilli),
    }));
  const last = months[months.length - 1];
  const products = [...(last?.products.values() ?? [])]
    .sort((a, b) => b.units - a.units || byText(a.stock_code, b.stock_code))
    .map((p) => ({ stock_code: p.stock_code, description: p.description, units: p.units }));
  return { topProducts, lastMonthUnits: { month: last?.month ?? null, products } };
}

function revenueByCountryMonth(
  rows: DashboardSnapshot['monthlyCountryRevenue'],
): DashboardView['revenueByCountryMonth'] {
  const sums = new MilliSums<string>();
  for (const r of rows) sums.add(`${r.month}\u0000${r.country}`, r.revenue);
  return [...sums.sums.entries()]
    .map(([key, milli]) => {
      const [month = '', country = ''] = key.split('\u0000');
      return { month, country, revenue: fromMilli(milli) };
    })
    .sort((a, b) => byText(a.month, b.month) || byText(a.country, b.country));
}

function cancellationsTile(
  rows: DashboardSnapshot['cancellations'],
  oneCountry: boolean,
): DashboardView['cancellations'] {
  const groups = new Map<
    string,
    { month: string; country: string; cancelled: number; lines: number; valueMilli: number }
  >();
  for (const r of rows) {
    const country = oneCountry ? r.country : ALL_COUNTRIES;
    const key = `${r.month}\u0000${country}`;
    const g = groups.get(key) ?? { month: r.month, country, cancelled: 0, lines: 0, valueMilli: 0 };
    g.cancelled += r.cancelled_lines;
    g.lines += r.product_lines;
    g.valueMilli += toMilli(r.cancelled_value);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => byText(a.month, b.month) || byText(a.country, b.country))
    .map((g) => ({
      month: g.month,
      country: g.country,
      cancelled_value: fromMilli(g.valueMilli),
      // As the mart defines it: cancelled lines over all product lines of the month (and country).
      cancellation_rate: g.lines === 0 ? 0 : g.cancelled / g.lines,
    }));
}

function rfmTile(rows: DashboardSnapshot['rfmSegments']): DashboardView['rfmSegments'] {
  const segments = new Map<string, { customers: number; monetaryMilli: number }>();
  for (const r of rows) {
    const s = segments.get(r.segment) ?? { customers: 0, monetaryMilli: 0 };
    s.customers += r.customers;
    s.monetaryMilli += toMilli(r.monetary);
    segments.set(r.segment, s);
  }
  return [...segments.entries()]
    .map(([segment, s]) => ({ segment, customers: s.customers, monetary: fromMilli(s.monetaryMilli) }))
    .sort((a, b) => b.customers - a.customers || byText(a.segment, b.segment));
}

function quarantinedByReason(audit: AuditReport): { reason: string; quarantined: number }[] {
  const reasons = new Map<string, number>();
  for (const q of audit.quarantine)
    reasons.set(q.reason, (reasons.get(q.reason) ?? 0) + Number(q.quarantined));
  return [...reasons.entries()]
    .map(([reason, quarantined]) => ({ reason, quarantined }))
    .sort((a, b) => b.quarantined - a.quarantined || byText(a.reason, b.reason));
}
