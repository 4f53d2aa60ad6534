/**
 * The dashboard's two contracts, with no I/O:
 * - the **snapshot** the refresh writes after each run (locally the stack's live refresh, on AWS the refresh
 *   function), as JSON at DASHBOARD_SNAPSHOT_KEY: the marts' rows the tiles need, at the grain the filters
 *   need, and the refresh time. The API never queries the warehouse for the dashboard, so a dashboard read
 *   never waits on Redshift inside API Gateway's 29 s;
 * - the **view** GET /dashboard/data answers with: every tile's figures for one filter (a date range and a
 *   country), summed from the snapshot's mart rows by `dashboardView`, so the page only draws.
 *
 * Amounts are numbers with at most 3 decimals (the marts' DECIMAL(18,3)); days and months are `YYYY-MM-DD`
 * (a month is its first day); times are ISO 8601 UTC.
 */

/** Where the snapshot is kept, in the bucket the audit result is kept in (AUDIT_RESULT_KEY's). */
export const DASHBOARD_SNAPSHOT_KEY = 'dashboard/snapshot.json';

/** Bumped when the snapshot's shape changes; a reader refuses a snapshot of another version. */
export const DASHBOARD_SNAPSHOT_VERSION = 1;

/** How many products the top-products tile shows. */
export const TOP_PRODUCTS = 15;

/** marts.daily_country_revenue: one row per day and customer country with product sales. */
export interface DailyCountryRevenueRow {
  day: string;
  country: string;
  invoices: number;
  lines: number;
  units: number;
  revenue: number;
}

/** marts.product_country_sales: net units and revenue per month, country and stock code. */
export interface ProductCountrySalesRow {
  month: string;
  country: string;
  stock_code: string;
  description: string | null;
  units: number;
  revenue: number;
}

/** marts.monthly_country_revenue. */
export interface MonthlyCountryRevenueRow {
  month: string;
  country: string;
  invoices: number;
  customers: number;
  revenue: number;
}

/** marts.cancellations, with the product lines its rate is taken over, so rates can be summed over rows. */
export interface CancellationsRow {
  month: string;
  country: string;
  cancelled_lines: number;
  cancelled_value: number;
  product_lines: number;
}

/** marts.customer_rfm, counted by segment and country. */
export interface RfmSegmentRow {
  segment: string;
  country: string;
  customers: number;
  monetary: number;
}

/** What the warehouse held at the refresh, for the pipeline-health tiles. */
export interface WarehouseCounts {
  /** Lines in raw (every delivery, duplicates included). */
  rawLines: number;
  /** Clean lines in staging after the refresh (each line once). */
  stagingLines: number;
  /** The newest invoice time in staging, or null when it is empty. */
  newestInvoiceAt: string | null;
  /**
   * The newest delivery into raw, or null when nothing was delivered. raw keeps no load time, so this is
   * the time of the refresh that first found raw grown (src/dashboard/snapshot.ts lastDeliveryAt): late by
   * at most one refresh interval.
   */
  lastDeliveryAt: string | null;
}

export interface DashboardSnapshot {
  version: typeof DASHBOARD_SNAPSHOT_VERSION;
  /** When the refresh that built this snapshot finished. */
  refreshedAt: string;
  warehouse: WarehouseCounts;
  dailyCountryRevenue: DailyCountryRevenueRow[];
  productCountrySales: ProductCountrySalesRow[];
  monthlyCountryRevenue: MonthlyCountryRevenueRow[];
  cancellations: CancellationsRow[];
  rfmSegments: RfmSegmentRow[];
}

/**
 * A filter of GET /dashboard/data (`?from=YYYY-MM-DD&to=YYYY-MM-DD&country=Netherlands`), every part
 * optional. Day tiles take the days in [from, to]; month tiles take the months that range touches.
 */
export interface DashboardFilter {
  from?: string;
  to?: string;
  country?: string;
}

/** The tiles' figures for one filter: what GET /dashboard/data answers. */
export interface DashboardView {
  filter: DashboardFilter;
  /** Null when no refresh has written a snapshot yet: the page then says how to send data. */
  refreshedAt: string | null;
  /** The countries and the day range present, for the filter controls. */
  countries: string[];
  days: { first: string; last: string } | null;
  revenue: {
    daily: { day: string; revenue: number }[];
    total: number;
    /** The last 7 and 30 days of the range, ending on its last day with sales. */
    last7Days: number;
    last30Days: number;
  };
  topProducts: {
    rank: number;
    stock_code: string;
    description: string | null;
    units: number;
    revenue: number;
  }[];
  revenueByCountryMonth: { month: string; country: string; revenue: number }[];
  /** Seed 000's metric: units per product in the last month of the range. */
  lastMonthUnits: {
    month: string | null;
    products: { stock_code: string; description: string | null; units: number }[];
  };
  cancellations: { month: string; country: string; cancelled_value: number; cancellation_rate: number }[];
  rfmSegments: { segment: string; customers: number; monetary: number }[];
  health: {
    warehouse: WarehouseCounts | null;
    /** From the last audit (GET /status's), null until one ran. */
    quarantinedByReason: { reason: string; quarantined: number }[] | null;
    deadLetters: number | null;
    audit: { ranAt: string; agrees: boolean } | null;
    /** Parts that could not be read for this answer, by name (`snapshot`, `audit`), so the page can say which is down. */
    unavailable: string[];
  };
}
