/**
 * Compaction's rules without I/O: which objects a run takes, when a partition is settled, how lines merge
 * and split. compact.test.ts runs the same rules against s3rver.
 */
import type { CleanLine } from '../../src/core/schema.js';
import {
  COMPACTION_DEFAULTS,
  compactedKey,
  generationId,
  type LakeObject,
  parseCompactedName,
  planPartition,
  settledLines,
  splitParts,
} from '../../src/lake/compaction.js';
import { aCleanLine } from '../helpers/lines.js';

const PARTITION = 'lake/invoice_lines/year=2011/month=01/day=05/';
const NOW = new Date('2026-12-03T12:00:00Z');
const MIN_AGE = COMPACTION_DEFAULTS.minAgeMs;

function firehoseObject(name: string, ageMs: number): LakeObject {
  return { key: `${PARTITION}${name}`, size: 1000, lastModified: new Date(NOW.getTime() - ageMs) };
}

function compactedObject(generation: string, part: number, parts: number, ageMs = 0): LakeObject {
  return {
    key: compactedKey(PARTITION, generation, part, parts),
    size: 1000,
    lastModified: new Date(NOW.getTime() - ageMs),
  };
}

function line(id: string, invoiceDate: string): CleanLine {
  return aCleanLine({ line_id: id, invoice_date: invoiceDate });
}

const GEN_A = generationId(['a'], new Date('2026-12-03T11:00:00Z'));
const GEN_B = generationId(['b'], new Date('2026-12-03T11:30:00Z'));

describe('compacted object names', () => {
  it('round-trip through parseCompactedName, and Firehose names parse as null', () => {
    const key = compactedKey(PARTITION, GEN_A, 2, 3);
    expect(parseCompactedName(key)).toEqual({ generation: GEN_A, part: 2, parts: 3 });
    expect(parseCompactedName(`${PARTITION}ecomflow-lake-20261203-1-uuid.parquet`)).toBeNull();
    expect(parseCompactedName(`${PARTITION}ecomflow-lake-1-2026-12-03-12-00-00-abcd`)).toBeNull();
  });

  it('name a generation by its time and its inputs, so different inputs never share an id', () => {
    const at = new Date('2026-12-03T11:00:00.123Z');
    expect(generationId(['x', 'y'], at)).toMatch(/^20261203T110000Z-[0-9a-f]{12}$/);
    expect(generationId(['y', 'x'], at)).toBe(generationId(['x', 'y'], at));
    expect(generationId(['x'], at)).not.toBe(generationId(['x', 'y'], at));
  });
});

describe('planPartition', () => {
  it('takes Firehose objects older than the minimum age and leaves younger ones', () => {
    const old1 = firehoseObject('old-1.parquet', MIN_AGE + 1);
    const old2 = firehoseObject('old-2.parquet', MIN_AGE);
    const young = firehoseObject('young.parquet', MIN_AGE - 1);
    expect(planPartition([old1, young, old2], NOW, MIN_AGE)).toEqual({
      action: 'compact',
      inputs: [old1, old2],
      young: 1,
    });
  });

  it('waits when every object is young, and is settled when the partition is empty', () => {
    expect(planPartition([firehoseObject('y.parquet', 10)], NOW, MIN_AGE)).toEqual({
      action: 'wait',
      young: 1,
    });
    expect(planPartition([], NOW, MIN_AGE)).toEqual({ action: 'settled', objects: 0 });
  });

  it('is settled on one complete generation, so a second run does nothing', () => {
    const parts = [compactedObject(GEN_A, 1, 2), compactedObject(GEN_A, 2, 2)];
    expect(planPartition(parts, NOW, MIN_AGE)).toEqual({ action: 'settled', objects: 2 });
  });

  it('rewrites a single old Firehose object, which may hold a line twice', () => {
    const only = firehoseObject('only.parquet', MIN_AGE * 2);
    expect(planPartition([only], NOW, MIN_AGE)).toMatchObject({ action: 'compact', inputs: [only] });
  });

  it('finishes what a crash left: a new generation beside its inputs, even when the generation is new', () => {
    const input = firehoseObject('input.parquet', MIN_AGE * 2);
    const written = compactedObject(GEN_B, 1, 1, 0);
    expect(planPartition([input, written], NOW, MIN_AGE)).toMatchObject({
      action: 'compact',
      inputs: [input, written],
    });
  });

  it('merges two complete generations (a crash between write and delete of a compacted day)', () => {
    const objects = [compactedObject(GEN_A, 1, 1), compactedObject(GEN_B, 1, 1)];
    expect(planPartition(objects, NOW, MIN_AGE)).toMatchObject({ action: 'compact', inputs: objects });
  });

  it('treats a partial generation (a crash while writing its parts) as an input', () => {
    const objects = [compactedObject(GEN_A, 1, 2)];
    expect(planPartition(objects, NOW, MIN_AGE)).toMatchObject({ action: 'compact', inputs: objects });
  });

  it('is settled on a generation while young Firehose objects wait their turn', () => {
    const objects = [compactedObject(GEN_A, 1, 1), firehoseObject('young.parquet', 1)];
    expect(planPartition(objects, NOW, MIN_AGE)).toEqual({ action: 'settled', objects: 1 });
  });
});

describe('settledLines', () => {
  it('keeps each line_id once, ordered by invoice time then line_id', () => {
    const a = line('a', '2011-01-05T10:00:00Z');
    const b = line('b', '2011-01-05T09:00:00Z');
    const c = line('c', '2011-01-05T10:00:00Z');
    expect(settledLines([[a, b], [c, a], [b]])).toEqual([b, a, c]);
  });

  it('applies a replace physically: the lines it dropped are gone, its own stay', () => {
    const old = line('a', '2011-01-05T10:00:00Z');
    const kept = {
      ...line('b', '2011-01-05T10:00:00Z'),
      change_version: 10,
      change_kind: 'replace' as const,
    };
    expect(settledLines([[old], [kept]])).toEqual([kept]);
  });
});

describe('splitParts', () => {
  const lines = Array.from({ length: 10 }, (_, i) => line(String(i), '2011-01-05T10:00:00Z'));

  it('writes one part below the target size', () => {
    expect(splitParts(lines, 100, 1000)).toEqual([lines]);
  });

  it('writes one part per target size of input, every line in exactly one part', () => {
    const parts = splitParts(lines, 2500, 1000);
    expect(parts).toHaveLength(3);
    expect(parts.flat()).toEqual(lines);
  });

  it('writes one (empty) part for no lines, and never more parts than lines', () => {
    expect(splitParts([], 5000, 1000)).toEqual([[]]);
    expect(splitParts(lines.slice(0, 2), 5000, 1000)).toHaveLength(2);
  });
});
