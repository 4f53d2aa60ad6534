/** `ecomflow replay` without a running stack: one clear line and a non-zero exit, never a stack trace. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { main } from '../../src/cli/main.js';
import { closedPort } from '../helpers/emulators.js';

describe('ecomflow replay', () => {
  let home: string;
  let errors: string[];
  const savedHome = process.env['ECOMFLOW_HOME'];
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'ecomflow-replay-cli-'));
    process.env['ECOMFLOW_HOME'] = home;
    errors = [];
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
    jest.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    if (savedHome === undefined) delete process.env['ECOMFLOW_HOME'];
    else process.env['ECOMFLOW_HOME'] = savedHome;
    await rm(home, { recursive: true, force: true });
  });

  it('says no stack was started in the state folder', async () => {
    // Act
    const code = await main(['replay', join(home, 'rows.csv')]);

    // Assess
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain(`no local stack found in ${home}: start it with \`npm start\``);
  });

  it('says the stack is not running when stack.json names an API that does not answer', async () => {
    // Prepare: what a stack that was stopped leaves behind.
    const apiUrl = `http://127.0.0.1:${await closedPort()}`;
    await writeFile(join(home, 'stack.json'), JSON.stringify({ apiUrl, apiKey: 'k' }));

    // Act
    const code = await main(['replay', join(home, 'rows.csv')]);

    // Assess
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain(
      `the local stack is not running at ${apiUrl}: start it with \`npm start\``,
    );
  });

  it('rejects a bad --rate as a usage error', async () => {
    expect(await main(['replay', 'x.csv', '--rate', 'fast'])).toBe(2);
    expect(errors.join('\n')).toMatch(/--rate must be a whole number of at least 0, not "fast"/);
  });
});
