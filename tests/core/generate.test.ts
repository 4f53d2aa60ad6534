import { generateCsv } from '../../src/core/generate.js';
import { cleanBytes } from '../helpers/clean-bytes.js';

function generated(
  rows: number,
  seed: number,
  extra: { dirty?: number; style?: 'spark' | 'uci' } = {},
): string {
  return `${[...generateCsv({ rows, seed, ...extra })].join('\n')}\n`;
}

describe('generateCsv', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(generated(500, 7)).toBe(generated(500, 7));
    expect(generated(500, 7)).not.toBe(generated(500, 8));
  });

  it('writes exactly the rows asked for, after a header', () => {
    expect(generated(1234, 1).trim().split('\n')).toHaveLength(1235);
  });

  it('reproduces the real data quirks in roughly their proportions', () => {
    const { report, lines, duplicates } = cleanBytes(Buffer.from(generated(20_000, 3)));
    const all = [...lines, ...duplicates];
    const share = (n: number) => n / report.rows_read;
    expect(report.quarantined).toBe(0);
    expect(share(all.filter((l) => l.customer_id === null).length)).toBeGreaterThan(0.15);
    expect(share(all.filter((l) => l.customer_id === null).length)).toBeLessThan(0.35);
    expect(share(all.filter((l) => l.is_cancellation).length)).toBeGreaterThan(0.002);
    expect(share(all.filter((l) => l.is_cancellation).length)).toBeLessThan(0.04);
    expect(share(report.duplicates)).toBeGreaterThan(0.004);
    expect(share(report.duplicates)).toBeLessThan(0.02);
    expect(all.some((l) => l.is_adjustment)).toBe(true);
    expect(all.some((l) => l.description?.includes(','))).toBe(true);
    expect(all.some((l) => l.description?.includes('"'))).toBe(true);
  });

  it('with --dirty, produces rows of every quarantine reason a field can have', () => {
    const { report } = cleanBytes(Buffer.from(generated(5_000, 2, { dirty: 0.05 })));
    // The generator dirties fields; a record that cannot be split (malformed_row) is pinned in csv and rows.
    const { malformed_row: unsplittable, ...byField } = report.by_reason;
    for (const count of Object.values(byField)) expect(count).toBeGreaterThan(0);
    expect(unsplittable).toBe(0);
    expect(report.rows_read).toBe(report.rows_clean + report.duplicates + report.quarantined);
  });

  it('writes the same lines in the mirrored export style (US dates, integer ids)', () => {
    const spark = cleanBytes(Buffer.from(generated(300, 5))).lines;
    const uci = cleanBytes(Buffer.from(generated(300, 5, { style: 'uci' }))).lines;
    expect(uci).toEqual(spark);
  });
});
