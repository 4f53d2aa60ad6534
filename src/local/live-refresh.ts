import { batchWrite, createDocumentClient } from '../adapters/dynamodb.js';
import type { PgWarehouse } from '../adapters/pg-warehouse.js';
import { createS3Client } from '../adapters/s3.js';
import { type PublishResult, publishLoyaltyBalances } from '../analytics/loyalty-publish.js';
import { loadWarehouseQuery } from '../analytics/models.js';
import { pgRunner } from '../analytics/pg-runner.js';
import { type RefreshResult, refreshWarehouse } from '../analytics/refresh.js';
import { localPipelineConfig } from '../config/local.js';
import { DASHBOARD_SNAPSHOT_KEY, type DashboardSnapshot } from '../dashboard/contract.js';
import {
  buildDashboardSnapshot,
  readDashboardSnapshot,
  writeDashboardSnapshot,
} from '../dashboard/snapshot.js';

/**
 * The local stack's live marts: the one home of "refresh the local stack", used by the stack's timer, by
 * `ecomflow load` at its end and by `ecomflow refresh`. A refresh here is what the refresh function does on
 * AWS: the warehouse SQL under its lock (refreshWarehouse), the loyalty balances published to DynamoDB,
 * then the dashboard snapshot written to S3 (s3rver), in the bucket GET /status reads the audit from.
 */

/** The running stack's parts a refresh touches. */
export interface LocalRefreshTarget {
  warehouse: PgWarehouse;
  /** The warehouse for messages, without its password. */
  target: string;
  /** The stand-ins' endpoints (stack.json's `endpoints`): dynalite for the balances, s3rver for the snapshot. */
  endpoints: { kinesis: string; dynamodb: string; s3: string; firehose: string };
}

export interface LocalRefreshResult {
  refresh: RefreshResult;
  loyalty: PublishResult;
  snapshot: DashboardSnapshot;
  /** Where the snapshot was written: `s3://<bucket>/dashboard/snapshot.json`. */
  snapshotUri: string;
}

/**
 * Refreshes staging and the marts, publishes the loyalty balances and writes the dashboard snapshot.
 *
 * @throws RefreshError from the refresh (nothing published, no snapshot written)
 * @example await refreshLocalStack({ warehouse, target, endpoints: info.endpoints })
 */
export async function refreshLocalStack(
  stack: LocalRefreshTarget,
  options: { full?: boolean; now?: () => Date } = {},
): Promise<LocalRefreshResult> {
  const now = options.now ?? (() => new Date());
  const refresh = await refreshWarehouse(pgRunner(stack.warehouse, stack.target), {
    full: options.full ?? false,
  });
  const config = localPipelineConfig({ ...stack.endpoints });
  const doc = createDocumentClient(config.aws);
  const s3 = createS3Client(config.aws);
  try {
    const loyalty = await publishLoyaltyBalances(
      (sql) => stack.warehouse.query(sql),
      (writes) => batchWrite(doc, config.tables, writes),
    );
    const previous = await readDashboardSnapshot(s3, config.auditBucket);
    const snapshot = await buildDashboardSnapshot((sql) => stack.warehouse.query(sql), now(), previous);
    await writeDashboardSnapshot(s3, config.auditBucket, snapshot);
    return {
      refresh,
      loyalty,
      snapshot,
      snapshotUri: `s3://${config.auditBucket}/${DASHBOARD_SNAPSHOT_KEY}`,
    };
  } finally {
    doc.destroy();
    s3.destroy();
  }
}

/** PostgreSQL's "relation does not exist": staging before the first refresh. */
const UNDEFINED_TABLE = '42P01';

/**
 * The raw rows no refresh has applied yet (warehouse/audit/unrefreshed.sql). Before the first refresh there
 * is no staging to compare with, and every raw row is waiting.
 */
export async function unrefreshedRows(warehouse: PgWarehouse): Promise<number> {
  const sql = await loadWarehouseQuery('audit/unrefreshed');
  try {
    const [row] = await warehouse.query<{ unrefreshed: string }>(sql);
    return Number(row?.unrefreshed ?? 0);
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNDEFINED_TABLE) throw err;
    const [row] = await warehouse.query<{ n: string }>('SELECT COUNT(*) AS n FROM "raw".invoice_lines');
    return Number(row?.n ?? 0);
  }
}

/** What one tick did: nothing (nothing arrived, or a run was under way), or a refresh. */
export type LiveRefreshTick =
  | { refreshed: false; reason: 'nothing arrived' | 'a run is under way' | 'stopped' }
  | { refreshed: true; rows: number; result: LocalRefreshResult };

export interface LiveRefresh {
  /** One check, and a refresh when raw has rows no refresh took; what the timer runs. */
  tick(): Promise<LiveRefreshTick>;
  /** Stops the timer and waits for the run under way. */
  stop(): Promise<void>;
}

/**
 * Refreshes the local stack every `intervalMs` when something arrived (0: never on a timer; `tick` still
 * works). A tick first counts raw's rows, which is cheap; only when the count moved since the last look
 * does it ask warehouse/audit/unrefreshed.sql whether any of them is new to staging (a refresh by
 * `ecomflow refresh` or `load` in between moves the count but leaves nothing to do). Runs never overlap:
 * a tick while one is under way is skipped, and the next tick takes what is left. A failed run is logged
 * and tried again at the next tick.
 */
export function startLiveRefresh(
  stack: LocalRefreshTarget,
  intervalMs: number,
  log: (message: string) => void,
  options: { now?: () => Date } = {},
): LiveRefresh {
  let running: Promise<LiveRefreshTick> | null = null;
  let stopped = false;
  // The raw count at the last look that found nothing to do, or after the last refresh: unchanged means
  // nothing arrived (raw is append-only; an erasure rewrites rows in place and applies itself to staging).
  let seenRaw: number | null = null;

  async function run(): Promise<LiveRefreshTick> {
    const [row] = await stack.warehouse.query<{ n: string }>('SELECT COUNT(*) AS n FROM "raw".invoice_lines');
    const raw = Number(row?.n ?? 0);
    if (raw === seenRaw) return { refreshed: false, reason: 'nothing arrived' };
    const rows = await unrefreshedRows(stack.warehouse);
    if (rows === 0) {
      seenRaw = raw;
      return { refreshed: false, reason: 'nothing arrived' };
    }
    const result = await refreshLocalStack(stack, options);
    seenRaw = raw;
    log(
      `live refresh: ${rows} new raw row(s), staging and ${result.refresh.models.length} models refreshed, ` +
        `${result.loyalty.balances} loyalty balances published, dashboard snapshot written (${result.refresh.ms + result.loyalty.ms} ms)`,
    );
    return { refreshed: true, rows, result };
  }

  function tick(): Promise<LiveRefreshTick> {
    if (stopped) return Promise.resolve({ refreshed: false, reason: 'stopped' });
    if (running) return Promise.resolve({ refreshed: false, reason: 'a run is under way' });
    const current = run().finally(() => {
      running = null;
    });
    running = current;
    return current;
  }

  const timer =
    intervalMs > 0
      ? setInterval(() => {
          tick().catch((err: Error) => log(`live refresh failed, will try again: ${err.message}`));
        }, intervalMs)
      : null;
  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
