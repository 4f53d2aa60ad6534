import { createHash } from 'node:crypto';
import { COMPACTION_DEFAULTS } from '../config/compact.js';
import { rowVersion, settleRows } from '../core/changes.js';
import type { StoredLine } from '../core/schema.js';

export { COMPACTION_DEFAULTS };

/**
 * Compaction's rules, with no I/O: which objects of a day partition to rewrite, what the new objects are
 * called, and how the lines are merged. `compactLake` (compact.ts) applies them to a `LakeStore`.
 *
 * The protocol, safe while Firehose keeps writing and after a crash at any point:
 * 1. list the partition; Firehose's objects younger than `minAgeMs` are left for a later run;
 * 2. read every input, settle its rows (each line_id once, corrections applied), write the new objects (one generation, parts 1..N);
 * 3. only then delete the inputs.
 * A reader sees a line twice between 2 and 3 (the view `invoice_lines` absorbs it), never not at all. A
 * crash before 3 leaves a complete new generation beside its inputs: the partition is not settled, so the
 * next run merges them all into a newer generation and deletes the rest. A crash during 2 leaves a partial
 * generation, which is an input like any other.
 */

/** What a listing says of one object. */
export interface LakeObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** The name of an object compaction wrote: `compacted-<generation>-<part>of<parts>.parquet`. */
export interface CompactedName {
  generation: string;
  part: number;
  parts: number;
}

const COMPACTED_NAME = /(?:^|\/)compacted-(\d{8}T\d{6}Z-[0-9a-f]{12})-(\d+)of(\d+)\.parquet$/;

/** The generation and part of a compacted object; null for anything else (Firehose's objects). */
export function parseCompactedName(key: string): CompactedName | null {
  const match = COMPACTED_NAME.exec(key);
  if (!match) return null;
  return { generation: match[1]!, part: Number(match[2]), parts: Number(match[3]) };
}

/**
 * A generation's id: the time it was made (so names sort by age) and a hash of its inputs' keys (so two
 * runs over different inputs never collide, and one run's parts share an id).
 */
export function generationId(inputKeys: readonly string[], now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const hash = createHash('sha256')
    .update([...inputKeys].sort().join('\n'))
    .digest('hex')
    .slice(0, 12);
  return `${stamp}-${hash}`;
}

/** The key of one output part, within the partition prefix (which ends in `/`). */
export function compactedKey(partition: string, generation: string, part: number, parts: number): string {
  return `${partition}compacted-${generation}-${part}of${parts}.parquet`;
}

/** What to do with one partition. */
export type PartitionPlan =
  | { action: 'settled'; objects: number }
  | { action: 'wait'; young: number }
  | { action: 'compact'; inputs: LakeObject[]; young: number };

/**
 * The plan for one partition's objects at `now`.
 * - Compacted objects are always inputs: they were written whole, by us, and a crash may have left them.
 * - Firehose's objects are inputs once older than `minAgeMs`.
 * - Settled: the inputs are exactly one complete generation (parts 1..N of N), so there is nothing to do.
 *   A second run over a compacted lake therefore reads and writes nothing.
 *
 * @example planPartition([{ key: 'p/compacted-20261203T120000Z-0123456789ab-1of1.parquet', ... }], now, 60_000).action === 'settled'
 */
export function planPartition(objects: readonly LakeObject[], now: Date, minAgeMs: number): PartitionPlan {
  const inputs: LakeObject[] = [];
  let young = 0;
  for (const object of objects) {
    if (parseCompactedName(object.key) || now.getTime() - object.lastModified.getTime() >= minAgeMs) {
      inputs.push(object);
    } else {
      young++;
    }
  }
  if (inputs.length === 0) return young > 0 ? { action: 'wait', young } : { action: 'settled', objects: 0 };
  if (isOneCompleteGeneration(inputs)) return { action: 'settled', objects: inputs.length };
  return { action: 'compact', inputs, young };
}

/**
 * The plan for a partition that must be rewritten whatever its state (an erasure rewrites its days): every
 * object is an input, compacted or not, young or not, so no line of the day is left in an old object.
 */
export function forcedPlan(objects: readonly LakeObject[]): PartitionPlan {
  return objects.length === 0
    ? { action: 'settled', objects: 0 }
    : { action: 'compact', inputs: [...objects], young: 0 };
}

function isOneCompleteGeneration(objects: readonly LakeObject[]): boolean {
  const names = objects.map((o) => parseCompactedName(o.key));
  const first = names[0];
  if (!first || names.some((n) => !n || n.generation !== first.generation || n.parts !== first.parts)) {
    return false;
  }
  const parts = new Set(names.map((n) => n!.part));
  return parts.size === first.parts && objects.length === first.parts;
}

/**
 * The rows a day partition keeps, with the corrections applied physically (settleRows in
 * src/core/changes.ts: copies, superseded rows and rows under an invoice's floor are dropped), in a stable
 * order: by invoice time, then line_id, then version, so the output's row groups carry tight time
 * statistics and two runs over the same rows write the same rows.
 */
export function settledLines(batches: Iterable<readonly StoredLine[]>): StoredLine[] {
  const rows: StoredLine[] = [];
  for (const batch of batches) for (const row of batch) rows.push(row);
  return settleRows(rows).kept.sort(
    (a, b) =>
      (a.invoice_date < b.invoice_date ? -1 : a.invoice_date > b.invoice_date ? 1 : 0) ||
      (a.line_id < b.line_id ? -1 : a.line_id > b.line_id ? 1 : 0) ||
      rowVersion(a) - rowVersion(b),
  );
}

/**
 * The lines split into parts of about `targetBytes` each, judged by the inputs' size (Parquet to Parquet,
 * the output is about as large as its inputs, less the duplicates). Always at least one part.
 */
export function splitParts(
  lines: readonly StoredLine[],
  inputBytes: number,
  targetBytes: number,
): StoredLine[][] {
  const parts = Math.max(1, Math.ceil(inputBytes / targetBytes));
  const size = Math.ceil(lines.length / parts);
  const out: StoredLine[][] = [];
  for (let i = 0; i < parts; i++) out.push(lines.slice(i * size, (i + 1) * size));
  return out.filter((part, i) => part.length > 0 || i === 0);
}
