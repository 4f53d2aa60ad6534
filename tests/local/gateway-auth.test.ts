/**
 * The local gateway's token checks, with local tokens signed by a state folder's key: the same rule as the
 * deployed API's Cognito authorizer (src/api/authorize.ts). A recording handler stands in for the `api`
 * function. The gateway runs in `cognito` mode (a token required), except where the default mode is tested.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AUTH_MODES, type AuthMode, LOCAL_AUTH } from '../../src/config/auth.js';
import { close } from '../../src/local/emulators.js';
import { createGateway, GATEWAY_ERRORS } from '../../src/local/gateway.js';
import {
  generateSigningKey,
  loadOrCreateSigningKey,
  localAuthScript,
  localDashboardToken,
  type SigningKey,
  signAccessToken,
  verifyToken,
} from '../../src/local/tokens.js';

const KEY = 'test-key';
let home: string;
let signingKey: SigningKey;
let server: Server;
let url: string;
let events: APIGatewayProxyEvent[];

async function start(mode: AuthMode): Promise<void> {
  server = createGateway({
    handler: async (event) => {
      events.push(event);
      return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}' };
    },
    apiKey: KEY,
    auth: { mode, issuer: LOCAL_AUTH.issuer, verify: (token) => verifyToken(signingKey, token) },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A request with the API key and, when given, `Authorization: Bearer <token>`. */
function call(method: string, path: string, token?: string): Promise<Response> {
  const headers: Record<string, string> = { 'x-api-key': KEY, 'content-type': 'text/csv' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return fetch(`${url}${path}`, { method, headers, ...(method === 'POST' ? { body: 'x' } : {}) });
}

async function expectRefused(
  response: Response,
  error: (typeof GATEWAY_ERRORS)[keyof typeof GATEWAY_ERRORS],
) {
  expect(response.status).toBe(error.status);
  expect(response.headers.get('x-amzn-errortype')).toBe(error.type);
  expect(await response.json()).toEqual({ error: error.responseType, message: error.message });
}

beforeEach(async () => {
  events = [];
  home = await mkdtemp(join(tmpdir(), 'ecomflow-auth-'));
  signingKey = await loadOrCreateSigningKey(home);
});
afterEach(async () => {
  if (server) await close(server);
  await rm(home, { recursive: true, force: true });
});

describe('the local gateway in cognito mode', () => {
  beforeEach(() => start(AUTH_MODES.cognito));

  it('lets an analyst read, and answers its POST /ingest with 403', async () => {
    const token = await signAccessToken(signingKey, { role: 'analyst' });
    expect((await call('GET', '/customers/17850', token)).status).toBe(200);
    expect((await call('GET', '/status', token)).status).toBe(200);
    await expectRefused(await call('POST', '/ingest', token), GATEWAY_ERRORS.accessDenied);
    expect(events.map((e) => `${e.httpMethod} ${e.resource}`)).toEqual([
      'GET /customers/{customerId}',
      'GET /status',
    ]);
  });

  it('lets an ingest client ingest, and answers its GET /customers/{id} with 403', async () => {
    const token = await signAccessToken(signingKey, { role: 'ingest' });
    expect((await call('POST', '/ingest', token)).status).toBe(200);
    expect((await call('PUT', '/invoices/536365', token)).status).toBe(200);
    await expectRefused(await call('GET', '/customers/17850', token), GATEWAY_ERRORS.accessDenied);
    await expectRefused(await call('DELETE', '/customers/17850', token), GATEWAY_ERRORS.accessDenied);
  });

  it('lets an admin erase a customer, which an analyst cannot', async () => {
    const admin = await signAccessToken(signingKey, { role: 'admin' });
    const analyst = await signAccessToken(signingKey, { role: 'analyst' });
    expect((await call('DELETE', '/customers/17850', admin)).status).toBe(200);
    await expectRefused(await call('DELETE', '/customers/17850', analyst), GATEWAY_ERRORS.accessDenied);
  });

  it('passes the claims on as the Cognito authorizer does, every claim a string', async () => {
    const token = await signAccessToken(signingKey, { role: 'analyst' });
    await call('GET', '/invoices/536365', token);
    const claims = (events[0]!.requestContext.authorizer as { claims: Record<string, string> }).claims;
    expect(claims).toMatchObject({ token_use: 'access', scope: 'ecomflow/read', iss: LOCAL_AUTH.issuer });
    expect(JSON.parse(claims['cognito:groups']!)).toEqual(['analysts']);
  });

  it('answers 401 to an expired token', async () => {
    const token = await signAccessToken(signingKey, { role: 'admin', expiresInSeconds: -1 });
    await expectRefused(await call('GET', '/status', token), GATEWAY_ERRORS.unauthorized);
  });

  it('answers 401 to a token signed by another key, and to one from another issuer', async () => {
    const other = await generateSigningKey();
    await expectRefused(
      await call('GET', '/status', await signAccessToken(other, { role: 'admin' })),
      GATEWAY_ERRORS.unauthorized,
    );
    const elsewhere = await signAccessToken(signingKey, {
      role: 'admin',
      issuer: 'https://example.com/pool',
    });
    await expectRefused(await call('GET', '/status', elsewhere), GATEWAY_ERRORS.unauthorized);
  });

  it('answers 401 with no token, and to a header that is not a JWT', async () => {
    await expectRefused(await call('GET', '/status'), GATEWAY_ERRORS.unauthorized);
    await expectRefused(await call('GET', '/status', 'not-a-jwt'), GATEWAY_ERRORS.unauthorized);
    expect(events).toEqual([]);
  });

  it('keeps /health public: no token and no key', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('still needs the API key with a valid token on the ingest routes (the usage plan), and not on reads', async () => {
    const token = await signAccessToken(signingKey, { role: 'admin' });
    const authorization = `Bearer ${token}`;
    const post = await fetch(`${url}/ingest`, { method: 'POST', headers: { authorization }, body: 'x' });
    await expectRefused(post, GATEWAY_ERRORS.forbidden);
    // A browser signed in through the hosted UI holds no key: its reads take the token alone.
    const read = await fetch(`${url}/status`, { headers: { authorization } });
    expect(read.status).toBe(200);
  });

  it("takes the dashboard's token as an analyst's", async () => {
    const token = await localDashboardToken(home);
    expect((await call('GET', '/status', token)).status).toBe(200);
    await expectRefused(await call('POST', '/ingest', token), GATEWAY_ERRORS.accessDenied);
  });
});

describe("the local dashboard's auth.js", () => {
  beforeEach(() => start(AUTH_MODES.cognito));

  it('gives the page headers that read through the gateway, as sign-in.js does on AWS', async () => {
    // Prepare: run the script as the page would, with a window of its own.
    const script = localAuthScript({ token: await localDashboardToken(home), apiKey: KEY });
    const window: { ecomflowAuth?: { headers: () => Promise<Record<string, string>> } } = {};
    new Function('window', 'location', script)(window, {});

    // Act
    const headers = await window.ecomflowAuth!.headers();

    // Assess
    expect((await fetch(`${url}/status`, { headers })).status).toBe(200);
    const post = await fetch(`${url}/ingest`, { method: 'POST', headers, body: 'x' });
    expect(post.status).toBe(GATEWAY_ERRORS.accessDenied.status);
  });
});

describe('the local gateway in the default apiKey mode', () => {
  beforeEach(() => start(AUTH_MODES.apiKey));

  it('takes the API key alone, as replay and load send it', async () => {
    expect((await call('POST', '/ingest')).status).toBe(200);
  });

  it('leaves an Authorization header of another scheme alone', async () => {
    const response = await fetch(`${url}/status`, {
      headers: { 'x-api-key': KEY, authorization: 'Basic dTpw' },
    });
    expect(response.status).toBe(200);
  });

  it('checks a token when one is sent', async () => {
    const analyst = await signAccessToken(signingKey, { role: 'analyst' });
    await expectRefused(await call('POST', '/ingest', analyst), GATEWAY_ERRORS.accessDenied);
    const other = await signAccessToken(await generateSigningKey(), { role: 'ingest' });
    await expectRefused(await call('POST', '/ingest', other), GATEWAY_ERRORS.unauthorized);
  });
});

describe('the state folder signing key', () => {
  it('names its file when the file holds no key, rather than replacing it', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'ecomflow-auth-bad-'));
    try {
      await writeFile(join(fresh, LOCAL_AUTH.keyFile), '{"kty":"RSA"}');
      await expect(loadOrCreateSigningKey(fresh)).rejects.toThrow(
        `${LOCAL_AUTH.keyFile} holds no private key`,
      );
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('is one key however many callers make it at once', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'ecomflow-auth-race-'));
    try {
      const keys = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateSigningKey(fresh)));
      expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
      expect((await readdir(fresh)).sort()).toEqual([LOCAL_AUTH.keyFile]);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('is made once, kept for this user only, and verifies the tokens signed before a restart', async () => {
    const token = await signAccessToken(signingKey, { role: 'analyst' });
    const again = await loadOrCreateSigningKey(home);
    expect(again.kid).toBe(signingKey.kid);
    expect(await verifyToken(again, token)).toMatchObject({ kind: 'verified' });
    const file = join(home, LOCAL_AUTH.keyFile);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ kty: 'RSA', kid: signingKey.kid });
  });
});
