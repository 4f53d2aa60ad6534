/** Types of jest.config.js, for tests/infra/lanes.test.ts. */
export declare const LANES: Record<'e2e' | 'infra' | 'real-data' | 'integration', string[]>;
declare const config: {
  projects: { displayName: string; testPathIgnorePatterns: string[] }[];
  testTimeout: number;
  maxWorkers: number;
};
export default config;
