import {
  settleRows,
  UNVERSIONED,
  VERSION_SEQUENCE_SPAN,
  versionClock,
  versionTime,
} from '../../src/core/changes.js';
import { CHANGE_KINDS, type ChangeKind, type StoredLine } from '../../src/core/schema.js';
import { aCleanLine } from '../helpers/lines.js';

/** A stored row of invoice 536365 (or `invoice`), line `id`, written by `kind` at `version`. */
function row(id: string, version: number | null, kind: ChangeKind | null, invoice = '536365'): StoredLine {
  return { ...aCleanLine({ line_id: id, invoice_no: invoice }), change_version: version, change_kind: kind };
}
const add = (id: string, v: number | null = null, invoice?: string) => row(id, v, CHANGE_KINDS.add, invoice);
const replace = (id: string, v: number, invoice?: string) => row(id, v, CHANGE_KINDS.replace, invoice);
const tombstone = (id: string, v: number, invoice?: string) => row(id, v, CHANGE_KINDS.delete, invoice);

const ids = (rows: readonly StoredLine[]) => rows.map((r) => `${r.line_id}@${r.change_version ?? 0}`).sort();

/** A deterministic shuffle (a linear congruential generator), so a failure names its seed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('versionClock', () => {
  it('grows with time and never repeats within a process, even within one millisecond', () => {
    // Arrange
    const start = Date.parse('2026-12-03T12:00:00Z');
    let ms = start;
    const clock = versionClock(() => ms, 5);
    // Act
    const first = clock();
    const second = clock();
    ms += 1;
    const third = clock();
    // Assess
    expect(first).toBe(start * VERSION_SEQUENCE_SPAN + 5);
    expect(second).toBe(first + 1);
    expect(third).toBeGreaterThan(second);
    expect(versionTime(third).toISOString()).toBe('2026-12-03T12:00:00.001Z');
    expect(Number.isSafeInteger(third)).toBe(true);
  });

  it('never goes back when the clock does', () => {
    let ms = 1_000_000;
    const clock = versionClock(() => ms, 0);
    const before = clock();
    ms -= 500;
    expect(clock()).toBe(before + 1);
  });
});

describe('settleRows', () => {
  it('shows each line once, whatever its copies', () => {
    const { visible, kept } = settleRows([add('a'), add('b'), add('a'), add('b', null)]);
    expect(ids(visible)).toEqual(['a@0', 'b@0']);
    expect(ids(kept)).toEqual(['a@0', 'b@0']);
  });

  it('lets a replace hide the lines it dropped, and keeps the lines it carried', () => {
    const { visible } = settleRows([add('a', 5), add('b', 5), replace('b', 10), replace('c', 10)]);
    expect(ids(visible)).toEqual(['b@10', 'c@10']);
  });

  it('hides a line behind its tombstone, and a whole deleted invoice', () => {
    const rows = [add('a', 5), add('b', 5), tombstone('a', 10), tombstone('b', 10), add('x', 5, 'OTHER')];
    expect(ids(settleRows(rows).visible)).toEqual(['x@5']);
  });

  it('never lets an older write undo a newer one: a stale replace and a stale add stay hidden', () => {
    const newer = [replace('b', 20)];
    const stale = [replace('a', 10), add('z', 15), add('old')];
    expect(ids(settleRows([...newer, ...stale]).visible)).toEqual(['b@20']);
  });

  it('shows lines added after a replace or a delete', () => {
    expect(ids(settleRows([replace('a', 10), add('b', 11)]).visible)).toEqual(['a@10', 'b@11']);
    // A delete of the invoice at 12 tombstones every line it had, then a line is posted.
    const rows = [replace('a', 10), add('b', 11), tombstone('a', 12), tombstone('b', 12), add('c', 13)];
    expect(ids(settleRows(rows).visible)).toEqual(['c@13']);
  });

  it('reads rows without change columns as version 0, add', () => {
    const { visible } = settleRows([row('a', null, null), replace('b', 1)]);
    expect(ids(visible)).toEqual(['b@1']);
    expect(UNVERSIONED).toBe(0);
  });

  it('keeps what gives the same lines again, with the floor, once its replaced line is added anew', () => {
    // Arrange: the replace's only line is posted again later, which supersedes the replace's row.
    const rows = [add('a', 5), replace('b', 10), add('b', 12), tombstone('a', 10)];
    // Act
    const first = settleRows(rows);
    const again = settleRows([...first.kept, add('a', 5), add('late', 7)]);
    // Assess: the floor (10) survived compaction, so the late copies of older writes stay hidden.
    expect(ids(first.visible)).toEqual(['b@12']);
    expect(ids(again.visible)).toEqual(['b@12']);
    expect(ids(first.kept)).toEqual(['a@10', 'b@10', 'b@12']);
  });

  it('gives the same result in any order and with any copies (100 shuffles)', () => {
    // Arrange: a history of adds, two replaces, a delete of one line and re-posts, over two invoices.
    const history = [
      add('a', 1),
      add('b', 1),
      add('c', 2),
      replace('b', 5),
      replace('d', 5),
      tombstone('a', 5),
      tombstone('c', 5),
      add('e', 6),
      replace('d', 9),
      tombstone('b', 9),
      tombstone('e', 9),
      add('f', 10),
      add('x', 3, 'OTHER'),
      tombstone('x', 4, 'OTHER'),
      add('y', 4, 'OTHER'),
    ];
    const expected = ids(settleRows(history).visible);
    expect(expected).toEqual(['d@9', 'f@10', 'y@4']);
    for (let seed = 1; seed <= 100; seed++) {
      // Act: a shuffle with copies of some rows.
      const delivered = shuffled([...history, ...history.filter((_, i) => (i + seed) % 3 === 0)], seed);
      const settled = settleRows(delivered);
      // Assess: the same lines, and compaction's output settles to them again.
      expect({ seed, visible: ids(settled.visible) }).toEqual({ seed, visible: expected });
      expect({ seed, again: ids(settleRows(shuffled(settled.kept, seed + 1)).visible) }).toEqual({
        seed,
        again: expected,
      });
    }
  });
});
