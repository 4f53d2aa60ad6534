import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The shared real data set; never copied into this repo. */
export const REAL_DATA = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'data',
  'online-retail',
  'online-retail.csv.gz',
);

/**
 * `describe` when the real data is present; otherwise a skipped `describe` that prints why, so the skip
 * is never silent.
 */
export function describeWithRealData(name: string, body: () => void): void {
  if (existsSync(REAL_DATA)) {
    describe(name, body);
    return;
  }
  console.warn(`skipping "${name}": the real data set is absent at ${REAL_DATA}`);
  describe.skip(`${name} (skipped: ${REAL_DATA} is absent)`, body);
}
