import { erasingTransform } from '../core/erasure.js';
import { compactLake, type LakeStore } from '../lake/compact.js';
import { readLakeLines } from '../lake/parquet-read.js';
import { lakePartition } from '../lake/partition.js';

/**
 * Rewrites passes per day before giving up: a scheduled compaction that read the day's objects before
 * this rewrite can write them again after it (with the customer's lines), so each day is read back, and
 * rewritten again until none of its lines holds the customer.
 */
export const LAKE_REWRITE_ATTEMPTS = 3;

/**
 * The lake side of an erasure: each of `days` rewritten by compaction with the erasing transform, so the
 * day's objects, compacted or not, are replaced by one generation in which the customer's lines are guest
 * lines. Returns the days that held objects and the lines re-keyed.
 * @returns `left`: the days still holding the customer after every attempt (empty when done)
 */
export async function eraseFromLake(
  store: LakeStore,
  prefix: string,
  customerId: number,
  days: Iterable<string>,
): Promise<{ days: number; lines: number; left: string[] }> {
  const erasing = erasingTransform(customerId);
  let rewritten = 0;
  const left: string[] = [];
  for (const day of [...days].sort()) {
    let touched = false;
    let clean = false;
    for (let attempt = 0; attempt < LAKE_REWRITE_ATTEMPTS && !clean; attempt++) {
      const report = await compactLake(store, { prefix, day, rewrite: { transform: erasing.transform } });
      touched ||= report.compacted > 0;
      clean = !(await dayHolds(store, `${prefix}${lakePartition(day)}`, customerId));
    }
    if (touched) rewritten++;
    if (!clean) left.push(day);
  }
  return { days: rewritten, lines: erasing.count(), left };
}

/** Whether any object of the partition holds a line of the customer. */
async function dayHolds(store: LakeStore, partition: string, customerId: number): Promise<boolean> {
  for (const object of await store.list(partition)) {
    const lines = await readLakeLines(object.key, await store.read(object.key));
    if (lines.some((line) => line.customer_id === customerId)) return true;
  }
  return false;
}
