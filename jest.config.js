/** Jest runs the TypeScript sources directly through SWC, as native ES modules. */

// The suite runs on Node 20 on purpose (Lambda runs nodejs22.x); the SDK's notice that its 2027 releases
// need Node 22 would otherwise repeat in every worker's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  // The end-to-end suites run bin/ecomflow.js, i.e. dist/: rebuilt first when a source is newer.
  globalSetup: '<rootDir>/tests/global-setup.ts',
  testTimeout: 60_000,
  // Emulator-backed suites share ports and the CPU; two workers match the machine.
  maxWorkers: 2,
};
