import {
  type AuditReport,
  type AuditStore,
  compareStores,
  type DayRow,
  daysOfLines,
  daysOfRows,
  type PendingCounts,
  type QuarantineCount,
  type StoreDays,
} from './compare.js';

/** Where the audit reads each store: the local stand-ins (src/local/audit.ts) or AWS (src/handlers/audit.ts). */
export interface AuditSources {
  /** glue/queries/audit_days.sql over the view invoice_lines (DuckDB, or Athena). */
  lakeDays(): Promise<DayRow[]>;
  /** warehouse/audit/invoice_days.sql over staging.invoice_lines (PostgreSQL, or Redshift). */
  warehouseDays(): Promise<DayRow[]>;
  /** Every line item of the invoices table (a Scan). */
  dynamodbLines(): AsyncIterable<{
    line_id: string;
    invoice_no: string;
    invoice_date: string;
    line_total: number;
  }>;
  /** glue/queries/quarantine_by_reason.sql over the quarantine table. */
  quarantine(): Promise<{ source: string; reason: string; quarantined: number | string }[]>;
  pending(): Promise<PendingCounts>;
}

/**
 * Reads every store (in parallel) and compares them day by day.
 * @example const report = await runAudit(localAuditSources(info), { since: '2011-01-01' })
 */
export async function runAudit(
  sources: AuditSources,
  options: { since?: string; now?: () => Date } = {},
): Promise<AuditReport> {
  const [lake, warehouse, dynamodb, quarantine, pending] = await Promise.all([
    sources.lakeDays().then(daysOfRows),
    sources.warehouseDays().then(daysOfRows),
    collect(sources.dynamodbLines()).then(daysOfLines),
    sources.quarantine().then(byReason),
    sources.pending(),
  ]);
  const stores: Record<AuditStore, StoreDays> = { lake, warehouse, dynamodb };
  return compareStores({
    stores,
    since: options.since,
    quarantine,
    pending,
    ranAt: (options.now ?? (() => new Date()))(),
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The per-day counts summed by source and reason, largest first. */
function byReason(
  rows: { source: string; reason: string; quarantined: number | string }[],
): QuarantineCount[] {
  const sums = new Map<string, QuarantineCount>();
  for (const row of rows) {
    const key = `${row.source}\u0000${row.reason}`;
    const entry = sums.get(key) ?? { source: row.source, reason: row.reason, quarantined: 0 };
    entry.quarantined += Number(row.quarantined);
    sums.set(key, entry);
  }
  return [...sums.values()].sort(
    (a, b) =>
      b.quarantined - a.quarantined || a.source.localeCompare(b.source) || a.reason.localeCompare(b.reason),
  );
}
