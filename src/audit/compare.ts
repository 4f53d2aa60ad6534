/**
 * The cross-store audit's rules, with no I/O: what each store's figures for an invoice day are, when days
 * agree, and how a disagreement is reported. `runAudit` (run.ts) gathers the figures; the stores' own
 * queries live with their adapters.
 */

/** The stores the audit compares, in the order they are printed. */
export const AUDIT_STORES = ['lake', 'warehouse', 'dynamodb'] as const;
export type AuditStore = (typeof AUDIT_STORES)[number];

/** Where the last audit result is kept, in the raw bucket: `/status` reads it, on AWS and locally. */
export const AUDIT_RESULT_KEY = 'audit/last.json';

/** One invoice day in one store. The total is in thousandths, exact (line totals have 3 decimals). */
export interface DayFigures {
  lines: number;
  invoices: number;
  totalMilli: number;
}

/** A store's figures by invoice day (`YYYY-MM-DD`). */
export type StoreDays = Map<string, DayFigures>;

/** One row of a store's per-day query: the day, the counts, and the total as decimal text or a number. */
export interface DayRow {
  invoice_day: string;
  lines: number | string;
  invoices: number | string;
  total: number | string | null;
}

/** What is on its way and not yet in every store: not a disagreement, but the reason for one. */
export interface PendingCounts {
  /** Lines the (local) Firehose has accepted and not yet delivered; null where it cannot be seen (AWS). */
  firehoseLines: number | null;
  /** Messages in the dead-letter destination (the local file, or the SQS DLQ). */
  deadLetters: number | null;
  /** Lines in the warehouse's raw table that the last refresh has not yet brought into staging. */
  warehouseUnrefreshed: number | null;
}

export interface QuarantineCount {
  reason: string;
  source: string;
  quarantined: number;
}

/** A day on which the stores differ; `differences` is each store minus the most complete one. */
export interface DayDisagreement {
  day: string;
  figures: Record<AuditStore, { lines: number; invoices: number; total: string }>;
  differences: { store: AuditStore; lines: number; invoices: number; total: string }[];
}

export interface AuditReport {
  ranAt: string;
  since: string | null;
  /** True when every day agrees. */
  agrees: boolean;
  /** Days compared (held by at least one store), and how many agree. */
  days: number;
  agreeing: number;
  disagreements: DayDisagreement[];
  totals: Record<AuditStore, { lines: number; invoices: number; total: string }>;
  quarantine: QuarantineCount[];
  pending: PendingCounts;
}

/**
 * Thousandths of a decimal: `'12.345'` → 12345, `-1.5` → -1500. Text is read digit by digit, so a
 * DECIMAL(18,3) from an engine is exact; numbers are rounded to thousandths.
 */
export function milliOf(value: number | string | null): number {
  if (value === null) return 0;
  if (typeof value === 'number') return Math.round(value * 1000);
  const m = /^(-?)(\d*)(?:\.(\d{0,3})\d*)?$/.exec(value.trim());
  if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(value)}`);
  const whole = Number(m[2] || '0') * 1000 + Number((m[3] ?? '').padEnd(3, '0'));
  return m[1] ? -whole : whole;
}

/** Thousandths as decimal text with three places: 12345 → `'12.345'`. */
export function decimalOf(milli: number): string {
  const sign = milli < 0 ? '-' : '';
  const abs = Math.abs(milli);
  return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}

/** A store's per-day query rows as StoreDays. */
export function daysOfRows(rows: readonly DayRow[]): StoreDays {
  const days: StoreDays = new Map();
  for (const row of rows) {
    days.set(row.invoice_day, {
      lines: Number(row.lines),
      invoices: Number(row.invoices),
      totalMilli: milliOf(row.total),
    });
  }
  return days;
}

/**
 * Figures from individual lines (as DynamoDB's line items give them), each line_id counted once.
 * @example daysOfLines([{ line_id: 'a', invoice_no: '1', invoice_date: '2011-01-05T10:00:00Z', line_total: 2.5 }])
 */
export function daysOfLines(
  lines: Iterable<{ line_id: string; invoice_no: string; invoice_date: string; line_total: number }>,
): StoreDays {
  const seen = new Set<string>();
  const invoices = new Map<string, Set<string>>();
  const days: StoreDays = new Map();
  for (const line of lines) {
    if (seen.has(line.line_id)) continue;
    seen.add(line.line_id);
    const day = line.invoice_date.slice(0, 10);
    const figures = days.get(day) ?? { lines: 0, invoices: 0, totalMilli: 0 };
    figures.lines++;
    figures.totalMilli += milliOf(line.line_total);
    const dayInvoices = invoices.get(day) ?? new Set<string>();
    dayInvoices.add(line.invoice_no);
    invoices.set(day, dayInvoices);
    figures.invoices = dayInvoices.size;
    days.set(day, figures);
  }
  return days;
}

const NONE: DayFigures = { lines: 0, invoices: 0, totalMilli: 0 };

const shown = (f: DayFigures) => ({ lines: f.lines, invoices: f.invoices, total: decimalOf(f.totalMilli) });

/** Compares the stores day by day, from `since` (inclusive) when given. */
export function compareStores(input: {
  stores: Record<AuditStore, StoreDays>;
  since?: string;
  quarantine: QuarantineCount[];
  pending: PendingCounts;
  ranAt: Date;
}): AuditReport {
  const allDays = new Set<string>();
  for (const store of AUDIT_STORES) for (const day of input.stores[store].keys()) allDays.add(day);
  const days = [...allDays].filter((d) => !input.since || d >= input.since).sort();
  const totals = Object.fromEntries(AUDIT_STORES.map((s) => [s, { ...NONE }])) as Record<
    AuditStore,
    DayFigures
  >;
  const disagreements: DayDisagreement[] = [];
  for (const day of days) {
    const figures = Object.fromEntries(
      AUDIT_STORES.map((s) => [s, input.stores[s].get(day) ?? NONE]),
    ) as Record<AuditStore, DayFigures>;
    for (const s of AUDIT_STORES) {
      totals[s].lines += figures[s].lines;
      totals[s].invoices += figures[s].invoices;
      totals[s].totalMilli += figures[s].totalMilli;
    }
    const [first, ...rest] = AUDIT_STORES.map((s) => figures[s]);
    const same = rest.every(
      (f) => f.lines === first!.lines && f.invoices === first!.invoices && f.totalMilli === first!.totalMilli,
    );
    if (same) continue;
    // The reference is the store holding the most lines (the lake first on a tie): a drift is almost
    // always something missing, and the difference then reads as how much is missing where.
    const reference = AUDIT_STORES.reduce((best, s) => (figures[s].lines > figures[best].lines ? s : best));
    disagreements.push({
      day,
      figures: Object.fromEntries(
        AUDIT_STORES.map((s) => [s, shown(figures[s])]),
      ) as DayDisagreement['figures'],
      differences: AUDIT_STORES.filter((s) => s !== reference)
        .map((store) => ({
          store,
          lines: figures[store].lines - figures[reference].lines,
          invoices: figures[store].invoices - figures[reference].invoices,
          total: decimalOf(figures[store].totalMilli - figures[reference].totalMilli),
        }))
        .filter((d) => d.lines !== 0 || d.invoices !== 0 || d.total !== '0.000'),
    });
  }
  return {
    ranAt: input.ranAt.toISOString(),
    since: input.since ?? null,
    agrees: disagreements.length === 0,
    days: days.length,
    agreeing: days.length - disagreements.length,
    disagreements,
    totals: Object.fromEntries(AUDIT_STORES.map((s) => [s, shown(totals[s])])) as AuditReport['totals'],
    quarantine: input.quarantine,
    pending: input.pending,
  };
}
