import type { StoredLine } from '../core/schema.js';
import {
  COMPACTION_DEFAULTS,
  compactedKey,
  forcedPlan,
  generationId,
  type LakeObject,
  planPartition,
  settledLines,
  splitParts,
} from './compaction.js';
import { ParquetLineWriter } from './parquet.js';
import { readLakeLines } from './parquet-read.js';
import { lakePartition } from './partition.js';

/** The lake's objects, as compaction needs them: S3 on AWS, s3rver locally (src/adapters/lake-store.ts). */
export interface LakeStore {
  /** The day partitions under the table's prefix, as prefixes ending in `/` (`.../year=2011/month=01/day=05/`). */
  listPartitions(): Promise<string[]>;
  list(partition: string): Promise<LakeObject[]>;
  read(key: string): Promise<Uint8Array>;
  write(key: string, body: Uint8Array): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
}

export interface CompactOptions {
  /** Only this day (`YYYY-MM-DD`); every partition when unset. */
  day?: string;
  minAgeMs?: number;
  targetBytes?: number;
  now?: () => Date;
  /** Stop starting partitions when this returns false (a Lambda near its timeout); the next run goes on. */
  keepGoing?: () => boolean;
  /** Called once a partition's new objects are written and before its inputs are deleted (fault tests). */
  afterWrite?: (partition: string, written: readonly string[]) => Promise<void> | void;
  /**
   * Rewrite the partitions even when settled, taking young objects too (forcedPlan), and pass every line
   * through `transform` before the merge. An erasure uses both to re-key a customer's lines.
   */
  rewrite?: { transform: (line: StoredLine) => StoredLine };
  /** The table's prefix, to name a `--day` partition: `lake/invoice_lines/`. */
  prefix: string;
}

/** What happened to one partition. */
export interface PartitionResult {
  partition: string;
  action: 'settled' | 'wait' | 'compacted';
  /** Objects read and deleted. */
  inputs: number;
  /** Objects written. */
  outputs: number;
  /** Lines read, copies included, and lines written. */
  linesIn: number;
  linesOut: number;
  /** Firehose objects left alone because they are younger than the minimum age. */
  young: number;
}

export interface CompactReport {
  partitions: PartitionResult[];
  compacted: number;
  objectsBefore: number;
  objectsAfter: number;
  duplicatesDropped: number;
  /** True when `keepGoing` stopped the run before every partition was seen. */
  stoppedEarly: boolean;
}

/**
 * Rewrites each day partition's objects into one object (or one per `targetBytes`), each line_id once,
 * following the protocol in compaction.ts: write the new generation, then delete the inputs.
 *
 * @example await compactLake(s3LakeStore(s3, bucket, 'lake/invoice_lines/'), { prefix: 'lake/invoice_lines/' })
 */
export async function compactLake(store: LakeStore, options: CompactOptions): Promise<CompactReport> {
  const now = options.now ?? (() => new Date());
  const minAgeMs = options.minAgeMs ?? COMPACTION_DEFAULTS.minAgeMs;
  const targetBytes = options.targetBytes ?? COMPACTION_DEFAULTS.targetBytes;
  const partitions = options.day
    ? [`${options.prefix}${lakePartition(options.day)}`]
    : await store.listPartitions();
  const report: CompactReport = {
    partitions: [],
    compacted: 0,
    objectsBefore: 0,
    objectsAfter: 0,
    duplicatesDropped: 0,
    stoppedEarly: false,
  };
  for (const partition of partitions) {
    if (options.keepGoing && !options.keepGoing()) {
      report.stoppedEarly = true;
      break;
    }
    const result = await compactPartition(store, partition, { ...options, now, minAgeMs, targetBytes });
    report.partitions.push(result);
    report.objectsBefore += result.inputs + result.young;
    report.objectsAfter += (result.action === 'compacted' ? result.outputs : result.inputs) + result.young;
    if (result.action === 'compacted') {
      report.compacted++;
      report.duplicatesDropped += result.linesIn - result.linesOut;
    }
  }
  return report;
}

async function compactPartition(
  store: LakeStore,
  partition: string,
  options: CompactOptions & { now: () => Date; minAgeMs: number; targetBytes: number },
): Promise<PartitionResult> {
  const at = options.now();
  const objects = await store.list(partition);
  const plan = options.rewrite ? forcedPlan(objects) : planPartition(objects, at, options.minAgeMs);
  const base = { partition, outputs: 0, linesIn: 0, linesOut: 0 };
  if (plan.action === 'settled') return { ...base, action: 'settled', inputs: plan.objects, young: 0 };
  if (plan.action === 'wait') return { ...base, action: 'wait', inputs: 0, young: plan.young };

  const batches = [];
  let inputBytes = 0;
  for (const input of plan.inputs) {
    batches.push(await readLakeLines(input.key, await store.read(input.key)));
    inputBytes += input.size;
  }
  const transform = options.rewrite?.transform;
  const lines = settledLines(transform ? batches.map((batch) => batch.map(transform)) : batches);
  const parts = splitParts(lines, inputBytes, options.targetBytes);
  const generation = generationId(
    plan.inputs.map((i) => i.key),
    at,
  );
  const written: string[] = [];
  for (const [i, part] of parts.entries()) {
    const writer = ParquetLineWriter.inMemory();
    for (const line of part) writer.append(line);
    const key = compactedKey(partition, generation, i + 1, parts.length);
    await store.write(key, writer.close());
    written.push(key);
  }
  await options.afterWrite?.(partition, written);
  // Only now: until here every line is in its inputs, and from here on in the new generation as well.
  await store.delete(plan.inputs.map((i) => i.key).filter((key) => !written.includes(key)));
  return {
    ...base,
    action: 'compacted',
    inputs: plan.inputs.length,
    outputs: written.length,
    linesIn: batches.reduce((n, b) => n + b.length, 0),
    linesOut: lines.length,
    young: plan.young,
  };
}
