/** Jest runs the TypeScript sources directly through SWC, as native ES modules. */

// The suite runs on Node 20 on purpose (Lambda runs nodejs22.x); the SDK's notice that its 2027 releases
// need Node 22 would otherwise repeat in every worker's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The test lanes, by path under tests/ (regular expressions). `unit` is every test in no other lane: pure
 * code, no emulator, child process or database, for the inner loop (`npm run test:unit`). `npm test` runs
 * every lane; tests/infra/lanes.test.ts checks that each test file is in exactly one.
 */
export const LANES = {
  /** The whole local stack or the CLI as a child process. */
  e2e: ['/tests/e2e/'],
  /** The template, the bundles and the source layout. */
  infra: ['/tests/infra/'],
  /** The real data set of ../shared/data (skipped, saying why, when it is absent). */
  'real-data': ['/tests/real-data/', 'real-data\\.test\\.ts$'],
  /** Against the stand-ins: kinesalite, dynalite, s3rver, the local Firehose, PostgreSQL, DuckDB. */
  integration: [
    '/tests/adapters/(dynamodb|firehose|kinesis|pg-warehouse)\\.test\\.ts$',
    '/tests/api/routes/dashboard\\.test\\.ts$',
    '/tests/analytics/(marts|loyalty)\\.test\\.ts$',
    '/tests/core/storable\\.test\\.ts$',
    '/tests/batch/',
    '/tests/cli/(redrive|replay|users)\\.test\\.ts$',
    '/tests/handlers/(api|pipeline|refresh|transform)\\.test\\.ts$',
    '/tests/lake/compact\\.test\\.ts$',
    '/tests/local/',
    '/tests/replay/replay\\.test\\.ts$',
    '/tests/stream/redrive\\.test\\.ts$',
  ],
};

const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
};

/** A lane's tests: its own patterns, minus the lanes listed before it (real-data before integration). */
function lane(name, options = {}) {
  const order = Object.keys(LANES);
  const earlier = order.slice(0, order.indexOf(name)).flatMap((n) => LANES[n]);
  return {
    ...base,
    displayName: name,
    testMatch: ['**/*.test.ts'],
    testRegex: undefined,
    ...options,
    // jest has no "match these" regex list beside testMatch's globs, so a lane ignores what is not its own.
    testPathIgnorePatterns: ['/node_modules/', ...earlier, `^(?!.*(${LANES[name].join('|')}))`],
  };
}

export default {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...Object.values(LANES).flat()],
    },
    lane('integration'),
    lane('real-data'),
    lane('infra'),
    // The end-to-end suites run bin/ecomflow.js, i.e. dist/: rebuilt first when a source is newer.
    lane('e2e', { globalSetup: '<rootDir>/tests/global-setup.ts' }),
  ],
  testTimeout: 60_000,
  // Emulator-backed suites share ports and the CPU; two workers match the machine.
  maxWorkers: 2,
};
