import { erasingTransform, guestLine } from '../../src/core/erasure.js';
import type { CleanLine, StoredLine } from '../../src/core/schema.js';
import { compactLake, type LakeStore } from '../../src/lake/compact.js';
import { forcedPlan, parseCompactedName } from '../../src/lake/compaction.js';
import { ParquetLineWriter } from '../../src/lake/parquet.js';
import { readLakeLines } from '../../src/lake/parquet-read.js';
import { aCleanLine } from '../helpers/lines.js';

const PREFIX = 'lake/invoice_lines/';

/** A line as the lake stores it: with the change columns, unset for a line posted before versions. */
const stored = (overrides: Partial<StoredLine> = {}): StoredLine => ({
  ...aCleanLine(),
  change_version: null,
  change_kind: null,
  ...overrides,
});
const DAY = `${PREFIX}year=2010/month=12/day=01/`;

/** A lake in memory: enough of S3 for compaction. */
function memoryLake(now: Date): LakeStore & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    async listPartitions() {
      return [...new Set([...objects.keys()].map((k) => k.slice(0, k.lastIndexOf('/') + 1)))].sort();
    },
    async list(partition) {
      return [...objects.entries()]
        .filter(([key]) => key.startsWith(partition) && !key.slice(partition.length).includes('/'))
        .map(([key, body]) => ({ key, size: body.byteLength, lastModified: now }));
    },
    async read(key) {
      return objects.get(key)!;
    },
    async write(key, body) {
      objects.set(key, body);
    },
    async delete(keys) {
      for (const key of keys) objects.delete(key);
    },
  };
}

function parquet(lines: readonly CleanLine[]): Uint8Array {
  const writer = ParquetLineWriter.inMemory();
  for (const line of lines) writer.append(line);
  return writer.close();
}

async function dayLines(store: LakeStore): Promise<CleanLine[]> {
  const out: CleanLine[] = [];
  for (const o of await store.list(DAY)) out.push(...(await readLakeLines(o.key, await store.read(o.key))));
  return out;
}

describe('forcedPlan', () => {
  it('takes every object, compacted or young, and has nothing to do on an empty day', () => {
    const now = new Date();
    const objects = [
      { key: `${DAY}compacted-20261203T120000Z-0123456789ab-1of1.parquet`, size: 1, lastModified: now },
      { key: `${DAY}firehose-young.parquet`, size: 1, lastModified: now },
    ];
    expect(forcedPlan(objects)).toEqual({ action: 'compact', inputs: objects, young: 0 });
    expect(forcedPlan([])).toEqual({ action: 'settled', objects: 0 });
  });
});

describe('compactLake with rewrite', () => {
  it('rewrites a settled day, applying the transform, and a plain run then finds it settled', async () => {
    // Prepare: a day already compacted, holding one line of 17850 (with a version, which the erasure
    // keeps) and one of another customer.
    const now = new Date('2026-12-03T12:00:00Z');
    const store = memoryLake(now);
    const theirs = stored({ line_id: 'a'.repeat(32), change_version: 7 * 4096, change_kind: 'add' });
    const other = stored({ line_id: 'b'.repeat(32), customer_id: 13047, stock_code: '71053' });
    await store.write(`${DAY}compacted-20261203T110000Z-0123456789ab-1of1.parquet`, parquet([theirs, other]));
    const plain = await compactLake(store, { prefix: PREFIX, day: '2010-12-01', now: () => now });
    expect(plain.compacted).toBe(0);
    // Act
    const erasing = erasingTransform(17850);
    const report = await compactLake(store, {
      prefix: PREFIX,
      day: '2010-12-01',
      now: () => now,
      rewrite: { transform: erasing.transform },
    });
    // Assess
    expect(report.compacted).toBe(1);
    expect(erasing.count()).toBe(1);
    const keys = [...store.objects.keys()];
    expect(keys).toHaveLength(1);
    expect(parseCompactedName(keys[0]!)?.generation).not.toBe('20261203T110000Z-0123456789ab');
    expect((await dayLines(store)).sort((a, b) => a.stock_code.localeCompare(b.stock_code))).toEqual(
      [guestLine(theirs), other].sort((a, b) => a.stock_code.localeCompare(b.stock_code)),
    );
    const again = await compactLake(store, { prefix: PREFIX, day: '2010-12-01', now: () => now });
    expect(again.compacted).toBe(0);
  });

  it('merges a re-keyed line with a guest copy of it already in the day', async () => {
    const now = new Date('2026-12-03T12:00:00Z');
    const store = memoryLake(now);
    const theirs = stored({ line_id: 'a'.repeat(32) });
    await store.write(`${DAY}firehose-1.parquet`, parquet([theirs]));
    await store.write(`${DAY}firehose-2.parquet`, parquet([guestLine(theirs)]));
    await compactLake(store, {
      prefix: PREFIX,
      day: '2010-12-01',
      now: () => now,
      rewrite: { transform: erasingTransform(17850).transform },
    });
    expect(await dayLines(store)).toEqual([guestLine(theirs)]);
  });
});
