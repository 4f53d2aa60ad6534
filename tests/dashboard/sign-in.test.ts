/**
 * src/dashboard/sign-in.js, the hosted-UI sign-in with PKCE, run as a browser would run it: in a VM
 * context with the browser globals it uses (sessionStorage, location, history, fetch, crypto, btoa). The
 * token endpoint is a recording stand-in; nothing here reaches Cognito.
 */
import { createHash, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';

const SCRIPT = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'dashboard', 'sign-in.js'), 'utf8');
const CONFIG = {
  domain: 'ecomflow-test-123456789012.auth.eu-west-1.amazoncognito.com',
  clientId: 'reader-client',
  redirectUri: 'https://api.example.com/test/',
};

interface Auth {
  headers(): Promise<Record<string, string>>;
}

/** A tab: its storage, address, the requests it made, and the page's ecomflowAuth. */
function tab(
  search = '',
  storage = new Map<string, string>(),
  tokenAnswer = { access_token: 'at-1', expires_in: 3600 },
) {
  const assigned: string[] = [];
  const requests: { url: string; body: string }[] = [];
  const location = {
    href: `${CONFIG.redirectUri}${search}`,
    search,
    assign: (url: string) => void assigned.push(url),
  };
  const window: Record<string, unknown> = { ECOMFLOW_AUTH_CONFIG: CONFIG };
  const context = createContext({
    window,
    location,
    history: {
      replaceState: (_s: unknown, _t: string, url: string) => {
        location.href = url;
      },
    },
    sessionStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    },
    fetch: async (url: string, init: { body: URLSearchParams }) => {
      requests.push({ url: String(url), body: init.body.toString() });
      return { ok: true, status: 200, json: async () => tokenAnswer };
    },
    crypto: webcrypto,
    btoa,
    URL,
    URLSearchParams,
    TextEncoder,
    Date,
    Promise,
  });
  runInContext(SCRIPT, context);
  return { auth: window['ecomflowAuth'] as Auth, assigned, requests, storage, location };
}

/**
 * Resolves once the script has sent the tab somewhere or made a request (its redirect promise never
 * settles, so there is nothing to await). Polled, not a fixed pause: on a busy machine the digest and the
 * configuration take their time.
 */
async function settle(t?: { assigned: string[]; requests: unknown[] }): Promise<void> {
  const deadline = Date.now() + 10_000;
  do await new Promise((resolve) => setTimeout(resolve, 5));
  while (t && t.assigned.length === 0 && t.requests.length === 0 && Date.now() < deadline);
}

describe('the sign-in script', () => {
  it('redirects to the hosted UI with a PKCE S256 challenge of the verifier it keeps', async () => {
    // Act
    const t = tab();
    void t.auth.headers();
    await settle(t);

    // Assess
    expect(t.assigned).toHaveLength(1);
    const url = new URL(t.assigned[0]!);
    expect(`${url.origin}${url.pathname}`).toBe(`https://${CONFIG.domain}/oauth2/authorize`);
    const pending = JSON.parse(t.storage.get('ecomflow.auth.pending')!) as {
      verifier: string;
      state: string;
    };
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: CONFIG.clientId,
      redirect_uri: CONFIG.redirectUri,
      scope: 'openid email ecomflow/read',
      state: pending.state,
      code_challenge: createHash('sha256').update(pending.verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
  });

  it('exchanges the code and the verifier at /oauth2/token, then sends the access token', async () => {
    // Prepare: the sign-in started in this tab.
    const first = tab();
    void first.auth.headers();
    await settle(first);
    const { state, verifier } = JSON.parse(first.storage.get('ecomflow.auth.pending')!) as Record<
      string,
      string
    >;

    // Act: back on the redirect URI with the code.
    const back = tab(`?code=the-code&state=${state}`, first.storage);
    const headers = await back.auth.headers();

    // Assess
    expect(headers).toEqual({ Authorization: 'Bearer at-1' });
    expect(back.requests).toHaveLength(1);
    expect(back.requests[0]!.url).toBe(`https://${CONFIG.domain}/oauth2/token`);
    expect(Object.fromEntries(new URLSearchParams(back.requests[0]!.body))).toEqual({
      grant_type: 'authorization_code',
      client_id: CONFIG.clientId,
      code: 'the-code',
      redirect_uri: CONFIG.redirectUri,
      code_verifier: verifier,
    });
    expect(back.location.href).not.toContain('code=');
    // The token is kept for the tab: the next request needs no sign-in.
    expect(await back.auth.headers()).toEqual({ Authorization: 'Bearer at-1' });
    expect(back.requests).toHaveLength(1);
  });

  it('refuses an answer whose state this tab did not start', async () => {
    const t = tab('?code=the-code&state=forged');
    await expect(t.auth.headers()).rejects.toThrow(/does not match a sign-in this tab started/);
    expect(t.requests).toEqual([]);
  });

  it('signs in again once the kept token is about to expire', async () => {
    const storage = new Map([
      ['ecomflow.auth.token', JSON.stringify({ accessToken: 'old', expiresAt: Date.now() + 30_000 })],
    ]);
    const t = tab('', storage);
    void t.auth.headers();
    await settle(t);
    expect(t.assigned[0]).toContain('/oauth2/authorize');
  });
});
