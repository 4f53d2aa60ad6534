/** Builders of dashboard snapshots (src/dashboard/contract.ts) and audit reports, with overridable parts. */
import type { AuditReport } from '../../src/audit/compare.js';
import {
  type CancellationsRow,
  DASHBOARD_SNAPSHOT_VERSION,
  type DailyCountryRevenueRow,
  type DashboardSnapshot,
  type MonthlyCountryRevenueRow,
  type ProductCountrySalesRow,
  type RfmSegmentRow,
} from '../../src/dashboard/contract.js';

export function aDailyRow(overrides: Partial<DailyCountryRevenueRow> = {}): DailyCountryRevenueRow {
  return {
    day: '2011-11-14',
    country: 'United Kingdom',
    invoices: 1,
    lines: 1,
    units: 1,
    revenue: 1,
    ...overrides,
  };
}

export function aProductRow(overrides: Partial<ProductCountrySalesRow> = {}): ProductCountrySalesRow {
  return {
    month: '2011-11-01',
    country: 'United Kingdom',
    stock_code: '22423',
    description: 'REGENCY CAKESTAND 3 TIER',
    units: 1,
    revenue: 12.75,
    ...overrides,
  };
}

export function aMonthlyRow(overrides: Partial<MonthlyCountryRevenueRow> = {}): MonthlyCountryRevenueRow {
  return {
    month: '2011-11-01',
    country: 'United Kingdom',
    invoices: 1,
    customers: 1,
    revenue: 1,
    ...overrides,
  };
}

export function aCancellationsRow(overrides: Partial<CancellationsRow> = {}): CancellationsRow {
  return {
    month: '2011-11-01',
    country: 'United Kingdom',
    cancelled_lines: 0,
    cancelled_value: 0,
    product_lines: 1,
    ...overrides,
  };
}

export function anRfmRow(overrides: Partial<RfmSegmentRow> = {}): RfmSegmentRow {
  return { segment: 'champions', country: 'United Kingdom', customers: 1, monetary: 100, ...overrides };
}

/** A snapshot with no rows, of the current version; pass the rows a test is about. */
export function aSnapshot(overrides: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return {
    version: DASHBOARD_SNAPSHOT_VERSION,
    refreshedAt: '2026-12-04T12:00:00.000Z',
    warehouse: {
      rawLines: 0,
      stagingLines: 0,
      newestInvoiceAt: null,
      lastDeliveryAt: null,
    },
    dailyCountryRevenue: [],
    productCountrySales: [],
    monthlyCountryRevenue: [],
    cancellations: [],
    rfmSegments: [],
    ...overrides,
  };
}

/** An audit report where every store agrees, with no quarantine and nothing pending. */
export function anAuditReport(overrides: Partial<AuditReport> = {}): AuditReport {
  const none = { lines: 0, invoices: 0, total: '0.000' };
  return {
    ranAt: '2026-12-04T12:05:00.000Z',
    since: null,
    agrees: true,
    days: 0,
    agreeing: 0,
    disagreements: [],
    totals: { lake: none, warehouse: none, dynamodb: none },
    quarantine: [],
    pending: { firehoseLines: 0, deadLetters: 0, warehouseUnrefreshed: 0 },
    ...overrides,
  };
}
