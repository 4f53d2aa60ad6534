/**
 * The local stand-in for a Cognito user pool's tokens: a signing key generated once and kept in the stack's
 * state folder (like `api-key`), access tokens signed with it carrying the claims Cognito's do, and their
 * verification for the local gateway. What a verified token may do is src/api/authorize.ts's rule, the same
 * as on AWS.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject, randomUUID } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compactVerify, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { AccessTokenClaims, TokenCheck } from '../api/authorize.js';
import { ROLE_GROUPS, ROLE_SCOPES, type Role } from '../api/scopes.js';
import { LOCAL_AUTH } from '../config/auth.js';
import { STATE_FILE_MODE } from '../config/local.js';

/** A signing key: the private half signs `ecomflow token`'s tokens, the public half verifies them. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The local app client of each role: Cognito puts the app client's id in `client_id`. */
export const LOCAL_CLIENT_IDS: Readonly<Record<Role, string>> = {
  analyst: 'local-reader',
  ingest: 'local-ingest',
  admin: 'local-reader',
};

/** A new RS256 key pair (Cognito signs with RS256), not yet stored. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(LOCAL_AUTH.algorithm, { extractable: true });
  const key = privateKey as unknown as KeyObject;
  return { kid: randomUUID(), privateKey: key, publicKey: createPublicKey(key) };
}

/** The state folder's signing key, created on first use (mode 0600, beside `api-key`). */
export async function loadOrCreateSigningKey(home: string): Promise<SigningKey> {
  const file = join(home, LOCAL_AUTH.keyFile);
  const stored = await readSigningKey(file);
  if (stored) return stored;
  const key = await generateSigningKey();
  const jwk = { ...(await exportJWK(key.privateKey)), kid: key.kid, alg: LOCAL_AUTH.algorithm };
  // Written whole under another name, then linked into place, which fails if the file exists: when the
  // stack and `ecomflow token` make the key at once, one key wins and both use it.
  const draft = `${file}.${process.pid}.${randomUUID()}`;
  await writeFile(draft, `${JSON.stringify(jwk)}\n`, { mode: STATE_FILE_MODE });
  try {
    await link(draft, file);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readSigningKey(file);
    if (!winner) throw new Error(`${file} vanished while it was made`);
    return winner;
  } finally {
    await unlink(draft);
  }
}

/**
 * The key in `file`, or null when there is no file.
 * @throws Error naming the file when it holds no private key (remove it; the stack makes a new one)
 */
async function readSigningKey(file: string): Promise<SigningKey | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch (cause) {
    throw new Error(`${file} is not JSON: remove it and the stack makes a new signing key`, { cause });
  }
  if (typeof jwk.d !== 'string' || typeof jwk.kid !== 'string') {
    throw new Error(`${file} holds no private key with a kid: remove it and the stack makes a new one`);
  }
  const privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  return { kid: jwk.kid, privateKey, publicKey: createPublicKey(privateKey) };
}

export interface TokenRequest {
  role: Role;
  /** Lifetime in seconds; negative makes a token that has already expired (for tests). */
  expiresInSeconds?: number;
  /** Now, in seconds since the epoch. */
  nowSeconds?: number;
  issuer?: string;
  /** The user (`sub`); a fixed one per role unless given. */
  subject?: string;
}

/**
 * An access token as a Cognito user pool issues one: `token_use: access`, the role's scopes in `scope`,
 * its group in `cognito:groups`, the app client in `client_id`, `iss`, `exp`, `iat`, `sub`, `jti`.
 * @example await signAccessToken(key, { role: 'analyst' }) // eyJ...
 */
export async function signAccessToken(key: SigningKey, request: TokenRequest): Promise<string> {
  const now = request.nowSeconds ?? Math.floor(Date.now() / 1000);
  const expires = request.expiresInSeconds ?? LOCAL_AUTH.defaultExpiresSeconds;
  const claims: JWTPayload = {
    token_use: 'access',
    scope: ROLE_SCOPES[request.role].join(' '),
    client_id: LOCAL_CLIENT_IDS[request.role],
    'cognito:groups': [ROLE_GROUPS[request.role]],
    username: `local-${request.role}`,
    auth_time: now,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: LOCAL_AUTH.algorithm, kid: key.kid })
    .setIssuer(request.issuer ?? LOCAL_AUTH.issuer)
    .setSubject(request.subject ?? `local-${request.role}`)
    .setIssuedAt(now)
    .setExpirationTime(now + expires)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/**
 * Checks a token's signature with the key's public half and returns its claims; expiry, issuer and scope
 * are the rule's to judge (src/api/authorize.ts), so nothing else is checked here.
 */
export async function verifyToken(key: SigningKey, token: string | undefined): Promise<TokenCheck> {
  if (token === undefined) return { kind: 'missing' };
  try {
    const { payload } = await compactVerify(token, key.publicKey, { algorithms: [LOCAL_AUTH.algorithm] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as unknown;
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      return { kind: 'invalid', detail: 'the payload is not a JSON object' };
    }
    return { kind: 'verified', claims: claims as AccessTokenClaims };
  } catch (error) {
    return { kind: 'invalid', detail: (error as Error).message };
  }
}

/**
 * An analyst's token for the dashboard on 127.0.0.1, signed with the stack's key, so that `npm start`
 * needs no sign-in: the local gateway hands it to the page (its `auth.js`).
 */
export async function localDashboardToken(home: string, nowSeconds?: number): Promise<string> {
  return dashboardToken(await loadOrCreateSigningKey(home), nowSeconds);
}

/** The dashboard's analyst token, signed with a key already loaded (the running stack's). */
export function dashboardToken(key: SigningKey, nowSeconds?: number): Promise<string> {
  return signAccessToken(key, {
    role: 'analyst',
    expiresInSeconds: LOCAL_AUTH.dashboardExpiresSeconds,
    ...(nowSeconds === undefined ? {} : { nowSeconds }),
  });
}

/**
 * The local dashboard's `auth.js`: the same `window.ecomflowAuth` interface as src/dashboard/sign-in.js
 * (headers(), signIn(), signOut()), answering with a local analyst token and the API key, so the page is
 * the same code locally and on AWS. Serve it fresh (a new token) each time it is asked for.
 * @example localAuthScript({ token: await localDashboardToken(home), apiKey })
 */
export function localAuthScript(values: { token: string | null; apiKey: string }): string {
  // Without a token (a gateway with no signing key, as in its own tests), the key alone.
  const headers = JSON.stringify(
    values.token === null
      ? { 'x-api-key': values.apiKey }
      : { Authorization: `Bearer ${values.token}`, 'x-api-key': values.apiKey },
  );
  return `// ecomflow local stack: no sign-in on 127.0.0.1 (src/local/tokens.ts, localAuthScript).
window.ecomflowAuth = {
  headers: async () => (${headers}),
  signIn: async () => location.reload(),
  signOut: async () => {},
};
`;
}
