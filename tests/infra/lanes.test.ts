/**
 * Every test file is in exactly one lane of jest.config.js, so `npm test` (all lanes) runs each file once and
 * a new file cannot fall outside the lanes. Lane membership is computed the way jest computes it: a lane's
 * testPathIgnorePatterns against the file's absolute path.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import config, { LANES } from '../../jest.config.js';

const REPO = resolve(import.meta.dirname, '..', '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? entry.name === 'fixtures'
        ? []
        : testFiles(join(dir, entry.name))
      : entry.name.endsWith('.test.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('the test lanes', () => {
  const { projects } = config;

  it('are unit, integration, real-data, infra and e2e', () => {
    expect(projects.map((p) => p.displayName).sort()).toEqual(['unit', ...Object.keys(LANES)].sort());
  });

  it('hold every test file exactly once', () => {
    // Prepare
    const files = testFiles(join(REPO, 'tests'));
    // Act
    const lanesOf = files.map((file) => ({
      file: file.slice(REPO.length + 1),
      lanes: projects
        .filter((p) => !p.testPathIgnorePatterns.some((pattern) => new RegExp(pattern).test(file)))
        .map((p) => p.displayName),
    }));
    // Assess
    expect(files.length).toBeGreaterThan(40);
    expect(lanesOf.filter(({ lanes }) => lanes.length !== 1)).toEqual([]);
  });

  it('keep the stand-ins out of the unit lane', () => {
    const unit = projects.find((p) => p.displayName === 'unit')!;
    const inUnit = testFiles(join(REPO, 'tests')).filter(
      (file) => !unit.testPathIgnorePatterns.some((pattern) => new RegExp(pattern).test(file)),
    );
    expect(inUnit.some((f) => f.includes('/tests/e2e/') || f.includes('/tests/local/'))).toBe(false);
  });
});
