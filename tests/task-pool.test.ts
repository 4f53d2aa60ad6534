import { mapLimit, TaskPool } from '../src/task-pool.js';

/** A task that finishes when the test says so. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { task: () => done, open, fail };
}

describe('TaskPool', () => {
  it('keeps at most `limit` tasks in flight and waits for a free place', async () => {
    // Prepare
    const pool = new TaskPool(2);
    const gates = [gate(), gate(), gate()];
    await pool.run(gates[0]!.task);
    await pool.run(gates[1]!.task);

    // Act
    let thirdStarted = false;
    const third = pool.run(gates[2]!.task).then(() => {
      thirdStarted = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const startedWhileFull = thirdStarted;
    gates[0]!.open();
    await third;

    // Assess
    expect(startedWhileFull).toBe(false);
    expect(pool.size).toBe(2);
    gates[1]!.open();
    gates[2]!.open();
    await pool.drain();
    expect(pool.size).toBe(0);
  });

  it('stops starting work after the first failure and rethrows it from drain()', async () => {
    // Prepare
    const pool = new TaskPool(1);
    const started: number[] = [];
    const first = gate();
    await pool.run(() => {
      started.push(1);
      return first.task();
    });

    // Act
    const second = pool.run(async () => {
      started.push(2);
    });
    first.fail(new Error('boom'));
    await second;

    // Assess
    expect(pool.failed).toBe(true);
    expect(started).toEqual([1]);
    await expect(pool.drain()).rejects.toThrow('boom');
  });

  it('refuses a limit below 1', () => {
    expect(() => new TaskPool(0)).toThrow(RangeError);
  });
});

describe('mapLimit', () => {
  it('runs every item once, with no more than the limit at a time', async () => {
    // Prepare
    let active = 0;
    let peak = 0;
    const seen: number[] = [];

    // Act
    await mapLimit([1, 2, 3, 4, 5], 2, async (item) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(item);
      active--;
    });

    // Assess
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('throws the first failure', async () => {
    await expect(
      mapLimit([1, 2, 3], 3, async (item) => {
        if (item === 2) throw new Error(`item ${item} failed`);
      }),
    ).rejects.toThrow('item 2 failed');
  });

  it('accepts an empty list', async () => {
    await expect(mapLimit([], 4, async () => undefined)).resolves.toBeUndefined();
  });
});
