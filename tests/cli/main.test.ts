import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { COMMANDS, main } from '../../src/cli/main.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

describe('ecomflow CLI', () => {
  let dir: string;
  let errors: string[];
  let output: string[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ecomflow-cli-'));
    errors = [];
    output = [];
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('cost prints each service before and after packing, the cost per million lines and its warnings', async () => {
    const code = await main(['cost', '--lines-per-month', '10000000']);
    expect(code).toBe(0);
    const text = output.join('\n');
    expect(text).toMatch(/10,000,000 lines a month/);
    for (const service of [
      'API Gateway',
      'Lambda',
      'Kinesis',
      'Firehose',
      'S3',
      'DynamoDB',
      'Athena',
      'CloudWatch',
    ]) {
      expect(text).toContain(service);
    }
    expect(text).toMatch(/per million lines: \$[\d.]+ unpacked, \$[\d.]+ packed/);
  });

  it('cost --json prints the estimates and their inputs', async () => {
    const code = await main(['cost', '--json', '--stage', 'prod']);
    expect(code).toBe(0);
    const out = JSON.parse(output.join('\n'));
    expect(out.stage).toBe('prod');
    expect(out.estimates.map((e: { packing: string }) => e.packing)).toEqual(['unpacked', 'packed']);
    expect(out.inputs.assumptions.linesPerRequest).toBeGreaterThan(0);
  });

  it('cost exits 2 on an unknown flag', async () => {
    expect(await main(['cost', '--frobnicate'])).toBe(2);
    expect(errors.join('\n')).toMatch(/--frobnicate/);
  });

  it('cost exits 2 on a bad --lines-per-month', async () => {
    const code = await main(['cost', '--lines-per-month', 'many']);
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/--lines-per-month must be a positive number, not "many"/);
  });

  it('clean exits 0 and prints the counts', async () => {
    const code = await main(['clean', join(FIXTURES, 'online-retail-dirty.csv'), '--out', dir]);
    expect(code).toBe(0);
    expect(output.join('\n')).toMatch(/read 24 rows[\s\S]*duplicates\s+1[\s\S]*quarantined 12/);
  });

  it('clean exits non-zero with the path on an unreadable input', async () => {
    const code = await main(['clean', join(dir, 'missing.csv'), '--out', dir]);
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/cannot read .*missing\.csv/);
  });

  it('clean exits non-zero naming the missing columns', async () => {
    const code = await main(['clean', join(FIXTURES, 'missing-columns.csv'), '--out', dir]);
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/missing required columns StockCode, UnitPrice, Country/);
  });

  it('rejects a bad --encoding and a missing --out as usage errors', async () => {
    expect(await main(['clean', 'x.csv', '--out', dir, '--encoding', 'ebcdic'])).toBe(2);
    expect(await main(['clean', 'x.csv'])).toBe(2);
    expect(errors.join('\n')).toMatch(/--encoding must be one of/);
  });

  it('generate writes a deterministic file', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    expect(await main(['generate', '--rows', '1000', '--seed', '9', '--out', a])).toBe(0);
    expect(await main(['generate', '--rows', '1000', '--seed', '9', '--out', b])).toBe(0);
    expect(await readFile(a, 'utf8')).toBe(await readFile(b, 'utf8'));
  });

  it.each(
    Object.keys(COMMANDS).flatMap((name) => [
      [name, '--help'],
      [name, '-h'],
    ]),
  )('%s %s prints its usage on stdout and exits 0, doing nothing else', async (name, flag) => {
    // Act
    const code = await main([name, flag]);
    // Assess
    expect(code).toBe(0);
    expect(output).toEqual([COMMANDS[name]!.usage]);
    expect(errors).toEqual([]);
  });

  it('answers an unknown command with usage and exit 2', async () => {
    expect(await main(['frobnicate'])).toBe(2);
    expect(errors.join('\n')).toMatch(/unknown command "frobnicate"/);
  });

  it('exits 1 with one line, and no stack, when a command fails at run time', async () => {
    // Prepare: a home with no running stack in it.
    const saved = process.env['ECOMFLOW_HOME'];
    process.env['ECOMFLOW_HOME'] = dir;
    try {
      // Act
      const code = await main(['sql', 'SELECT 1']);
      // Assess
      expect(code).toBe(1);
      expect(errors).toEqual([expect.stringMatching(/^ecomflow sql: no local stack found in /)]);
      expect(errors[0]).not.toContain('    at ');
    } finally {
      if (saved === undefined) delete process.env['ECOMFLOW_HOME'];
      else process.env['ECOMFLOW_HOME'] = saved;
    }
  });

  it('exits 2 for a command line to fix, naming the command', async () => {
    expect(await main(['generate', '--rows', 'many'])).toBe(2);
    expect(errors).toEqual(['ecomflow generate: --rows must be a whole number, not "many"']);
  });
});
