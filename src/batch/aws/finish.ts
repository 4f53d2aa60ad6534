import { RAW_SCHEMA } from '../../adapters/pg-warehouse.js';
import { listKeys, readJson, writeJson } from '../../adapters/s3-objects.js';
import { type CleanReport, emptyReport } from '../../core/line-cleaner.js';
import { quarantineNamePrefix } from '../../core/quarantine.js';
import type { BatchDeps } from './deps.js';
import { timestamp } from './deps.js';
import { LoadStateError } from './errors.js';
import {
  LOAD_PHASES,
  type LoadPlan,
  type LoadStatus,
  loadKeys,
  loadQuarantineDay,
  type RangeResult,
} from './records.js';

export interface FinishInput {
  sourceId: string;
}

export interface FinishOutput {
  sourceId: string;
  rowsRead: number;
  inserted: number;
  alreadyLoaded: boolean;
}

/** A Redshift COPY manifest; `meta.content_length` is required for Parquet. */
interface CopyManifest {
  entries: { url: string; mandatory: true; meta: { content_length: number } }[];
}

/**
 * Sums the reports of the ranges. `duplicates` counts exact duplicates within each range: a duplicate whose
 * copies fell into different ranges is only dropped by the warehouse merge (it is in `copied - inserted`)
 * and by the lake's deduplicating views. With one range, the counts equal `ecomflow clean`'s.
 */
export function sumReports(reports: readonly CleanReport[]): CleanReport {
  const total = emptyReport();
  for (const r of reports) {
    total.rows_read += r.rows_read;
    total.rows_clean += r.rows_clean;
    total.duplicates += r.duplicates;
    total.quarantined += r.quarantined;
    for (const [reason, n] of Object.entries(r.by_reason)) {
      total.by_reason[reason as keyof CleanReport['by_reason']] += n;
    }
  }
  return total;
}

/**
 * Step 3 of a load, once every range is cleaned: sums the ranges' reports, writes a COPY manifest listing
 * exactly this load's parts, has the warehouse COPY them and merge by line_id, and records `done` with
 * the report. Idempotent: the merge skips line ids already present, and a load already `done` is left as
 * it is.
 *
 * @throws LoadStateError when the plan or a range's result is missing
 */
export async function finishLoad(deps: BatchDeps, input: FinishInput): Promise<FinishOutput> {
  const { sourceId } = input;
  const keys = loadKeys(sourceId);
  const [plan, status] = await Promise.all([
    readJson<LoadPlan>(deps.s3, deps.rawBucket, keys.plan),
    readJson<LoadStatus>(deps.s3, deps.rawBucket, keys.status),
  ]);
  if (!plan)
    throw new LoadStateError(sourceId, `load ${sourceId}: no plan at s3://${deps.rawBucket}/${keys.plan}`);
  if (status?.phase === LOAD_PHASES.done) {
    return { sourceId, rowsRead: status.report?.rows_read ?? 0, inserted: 0, alreadyLoaded: true };
  }

  const present = new Set(await listKeys(deps.s3, deps.rawBucket, keys.ranges));
  const missing = plan.ranges.filter((r) => !present.has(keys.range(r.index))).map((r) => r.index);
  if (missing.length > 0) {
    throw new LoadStateError(
      sourceId,
      `load ${sourceId}: range${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${plan.ranges.length} ` +
        'have no result yet; the clean step must finish them first',
    );
  }
  const results = await Promise.all(
    plan.ranges.map(async (r) => {
      const result = await readJson<RangeResult>(deps.s3, deps.rawBucket, keys.range(r.index));
      if (!result)
        throw new LoadStateError(sourceId, `load ${sourceId}: range ${r.index}'s result disappeared`);
      return result;
    }),
  );
  checkEncodings(sourceId, results);

  const report = sumReports(results.map((r) => r.report));
  const parts = results.flatMap((r) => r.parts);
  const lake = {
    bucket: deps.lake.bucket,
    parts: parts.length,
    rows: parts.reduce((n, p) => n + p.rows, 0),
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
  };
  const quarantine = {
    bucket: deps.quarantine.bucket,
    prefix: `${deps.quarantine.prefix}${quarantineNamePrefix('batch', loadQuarantineDay(plan, status?.updatedAt ?? timestamp(deps)), `${sourceId}-`)}`,
    rows: results.reduce((n, r) => n + r.quarantine.rows, 0),
  };
  const base: LoadStatus = {
    sourceId,
    source: plan.source,
    phase: LOAD_PHASES.loading,
    mode: plan.mode,
    ranges: plan.ranges.length,
    report,
    lake,
    warehouse: null,
    quarantine,
    error: null,
    startedAt: status?.startedAt ?? timestamp(deps),
    updatedAt: timestamp(deps),
  };
  await writeJson(deps.s3, deps.rawBucket, keys.status, base);

  let warehouse = { target: deps.warehouse.target, copied: 0, inserted: 0 };
  if (parts.length > 0) {
    const manifest: CopyManifest = {
      entries: parts.map((p) => ({
        url: `s3://${deps.lake.bucket}/${p.key}`,
        mandatory: true,
        meta: { content_length: p.bytes },
      })),
    };
    await writeJson(deps.s3, deps.rawBucket, keys.manifest, manifest);
    const loaded = await deps.warehouse.copyAndMerge({
      manifestUrl: `s3://${deps.rawBucket}/${keys.manifest}`,
      loadTable: `${RAW_SCHEMA}.load_${sourceId}`,
    });
    warehouse = { target: deps.warehouse.target, ...loaded };
  }
  await writeJson(deps.s3, deps.rawBucket, keys.status, {
    ...base,
    phase: LOAD_PHASES.done,
    warehouse,
    updatedAt: timestamp(deps),
  } satisfies LoadStatus);
  deps.log?.info('loaded', { sourceId, ...report, ...warehouse });
  return { sourceId, rowsRead: report.rows_read, inserted: warehouse.inserted, alreadyLoaded: false };
}

/**
 * Every range decodes with the plan's encoding, so they cannot disagree, unless the plan left it to each
 * range (`auto` on an object that was ASCII where the planner looked). Two ranges that settled on different
 * encodings would have cleaned text differently: that load is refused.
 */
function checkEncodings(sourceId: string, results: readonly RangeResult[]): void {
  const byEncoding = new Map<string, number[]>();
  for (const r of results) {
    if (r.encoding === 'undecided') continue;
    byEncoding.set(r.encoding, [...(byEncoding.get(r.encoding) ?? []), r.index]);
  }
  if (byEncoding.size > 1) {
    const found = [...byEncoding].map(([encoding, ranges]) => `${encoding} (ranges ${ranges.join(', ')})`);
    throw new LoadStateError(
      sourceId,
      `load ${sourceId}: its ranges decoded differently, as ${found.join(' and ')}; upload it again with ` +
        '`ecomflow load --target aws --encoding <encoding>`',
    );
  }
}
