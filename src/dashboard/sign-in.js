// Sign-in for the dashboard on AWS (auth=cognito): Cognito's hosted UI with the authorization code grant
// and PKCE, in plain browser JavaScript (no build step). It defines
//
//   window.ecomflowAuth = {
//     headers: async () => ({ Authorization: 'Bearer <access token>' }),  // signs in first if needed
//     signIn: () => ...,   // forget the token and sign in again (e.g. after a 401)
//     signOut: () => ...,  // forget the token and end the hosted-UI session
//   }
//
// The page calls `await ecomflowAuth.headers()` for each API request. The local stack serves an auth.js of
// its own with the same interface and a local token, so the page is the same on both.
//
// Configuration: window.ECOMFLOW_AUTH_CONFIG when the page sets it, else auth-config.json beside this
// script (GET /dashboard/auth-config.json, the API's ApiConfig.signIn), as { "domain": "<prefix>.auth.<region>.amazoncognito.com", "clientId": "<ReaderClient id>",
// "redirectUri": "https://<api>/<stage>/", "scope": "openid email ecomflow/read" } (docs/deploy.md).
//
// Flow (https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html and
// .../token-endpoint.html): a random code verifier, its S256 challenge, a redirect to /oauth2/authorize;
// back on the redirect URI with ?code&state, the code and the verifier are exchanged at /oauth2/token for
// an access token, kept in sessionStorage (this tab only, gone when it closes) until a minute before it
// expires; then the next headers() signs in again (the hosted UI's session usually makes that a redirect
// with no typing).
(() => {
  const TOKEN_KEY = 'ecomflow.auth.token';
  const PENDING_KEY = 'ecomflow.auth.pending';
  const EARLY_MS = 60_000;
  // This script's own address (…/dashboard/auth.js): its configuration is served beside it.
  const HERE = (typeof document !== 'undefined' && document.currentScript?.src) || location.href;

  let configPromise;
  function config() {
    configPromise ??= (async () => {
      const given = window.ECOMFLOW_AUTH_CONFIG;
      const cfg = given ?? (await (await fetch(new URL('auth-config.json', HERE))).json());
      for (const field of ['domain', 'clientId', 'redirectUri']) {
        if (typeof cfg[field] !== 'string' || cfg[field] === '') {
          throw new Error(`ecomflow sign-in: the configuration has no ${field}`);
        }
      }
      return { scope: 'openid email ecomflow/read', ...cfg, domain: cfg.domain.replace(/^https?:\/\//, '') };
    })();
    return configPromise;
  }

  function base64url(bytes) {
    let text = '';
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  const randomText = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

  function storedToken() {
    try {
      const t = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null');
      return t && typeof t.accessToken === 'string' && t.expiresAt - EARLY_MS > Date.now()
        ? t.accessToken
        : null;
    } catch {
      return null;
    }
  }

  /** Sends the browser to the hosted UI; the promise never settles, as the page is left. */
  async function redirectToSignIn() {
    const cfg = await config();
    const verifier = randomText(32);
    const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const state = randomText(16);
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo: location.href }));
    const url = new URL(`https://${cfg.domain}/oauth2/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: cfg.clientId,
      redirect_uri: cfg.redirectUri,
      scope: cfg.scope,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    location.assign(url.toString());
    return new Promise(() => {});
  }

  /** Back from the hosted UI with ?code: exchanges it (with the verifier) for the tokens. */
  async function finishSignIn(params) {
    const cfg = await config();
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null');
    sessionStorage.removeItem(PENDING_KEY);
    if (!pending || pending.state !== params.get('state')) {
      throw new Error('ecomflow sign-in: the answer does not match a sign-in this tab started');
    }
    const response = await fetch(`https://${cfg.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: cfg.clientId,
        code: params.get('code'),
        redirect_uri: cfg.redirectUri,
        code_verifier: pending.verifier,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new Error(`ecomflow sign-in: the token endpoint answered ${response.status} ${body.error ?? ''}`);
    }
    sessionStorage.setItem(
      TOKEN_KEY,
      JSON.stringify({
        accessToken: body.access_token,
        expiresAt: Date.now() + Number(body.expires_in ?? 3600) * 1000,
      }),
    );
    // Leave no code in the address bar or the history; go back where the sign-in started.
    history.replaceState(null, '', pending.returnTo ?? cfg.redirectUri);
    return body.access_token;
  }

  let tokenPromise = null;
  async function accessToken() {
    const token = storedToken();
    if (token) return token;
    const params = new URLSearchParams(location.search);
    if (params.has('error')) {
      throw new Error(
        `ecomflow sign-in: ${params.get('error')} ${params.get('error_description') ?? ''}`.trim(),
      );
    }
    if (params.has('code') && params.has('state')) return finishSignIn(params);
    return redirectToSignIn();
  }

  window.ecomflowAuth = {
    async headers() {
      // One sign-in at a time, however many tiles ask at once.
      tokenPromise ??= accessToken().finally(() => {
        tokenPromise = null;
      });
      return { Authorization: `Bearer ${await tokenPromise}` };
    },
    signIn() {
      sessionStorage.removeItem(TOKEN_KEY);
      return redirectToSignIn();
    },
    async signOut() {
      const cfg = await config();
      sessionStorage.removeItem(TOKEN_KEY);
      const url = new URL(`https://${cfg.domain}/logout`);
      url.search = new URLSearchParams({ client_id: cfg.clientId, logout_uri: cfg.redirectUri }).toString();
      location.assign(url.toString());
    },
  };
})();
