/** `ecomflow token`: a local token for a role, signed with the state folder's key, and its arguments. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { decodeJwt } from 'jose';
import { ROLE_SCOPES } from '../../src/api/scopes.js';
import { parseDuration } from '../../src/cli/commands/token.js';
import { main } from '../../src/cli/main.js';
import { LOCAL_AUTH } from '../../src/config/auth.js';
import { STACK_VARIABLES } from '../../src/config/local.js';
import { loadOrCreateSigningKey, verifyToken } from '../../src/local/tokens.js';

describe('ecomflow token', () => {
  let home: string;
  let output: string[];
  let errors: string[];
  const saved = process.env[STACK_VARIABLES.home];
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'ecomflow-token-'));
    process.env[STACK_VARIABLES.home] = home;
    output = [];
    errors = [];
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    if (saved === undefined) delete process.env[STACK_VARIABLES.home];
    else process.env[STACK_VARIABLES.home] = saved;
    await rm(home, { recursive: true, force: true });
  });

  it("prints an ingest client's access token, signed with the state folder's key", async () => {
    // Act
    const code = await main(['token', '--role', 'ingest', '--expires', '15m']);

    // Assess
    expect(code).toBe(0);
    const token = output.join('').trim();
    const check = await verifyToken(await loadOrCreateSigningKey(home), token);
    expect(check).toMatchObject({
      kind: 'verified',
      claims: { token_use: 'access', scope: ROLE_SCOPES.ingest.join(' '), iss: LOCAL_AUTH.issuer },
    });
    const claims = decodeJwt(token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);
    expect(claims['cognito:groups']).toEqual(['ingest-clients']);
  });

  it.each([
    [['token'], '--role is required'],
    [['token', '--role', 'reader'], '--role "reader" is not one of analyst, ingest, admin'],
    [['token', '--role', 'admin', '--expires', 'soon'], '--expires "soon" is not a duration'],
  ])('refuses %j with exit code 2 and says why', async (argv, message) => {
    expect(await main(argv)).toBe(2);
    expect(errors.join('\n')).toContain(message);
    expect(output).toEqual([]);
  });
});

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days, and nothing else', () => {
    expect([
      parseDuration('90'),
      parseDuration('90s'),
      parseDuration('15m'),
      parseDuration('1h'),
      parseDuration('2d'),
    ]).toEqual([90, 90, 900, 3600, 172_800]);
    expect([parseDuration('0s'), parseDuration('-1h'), parseDuration('1w'), parseDuration('')]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});
