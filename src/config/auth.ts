/**
 * Access: how requests are authorized (the API key only, or Cognito access tokens as well), the local
 * stand-in for a user pool's signing key, and where `ecomflow users` finds the pool. Read once, here.
 */
import { ConfigError, type Env, read } from './env.js';

/**
 * How the API authorizes a request. `apiKey`: the API key of the usage plan alone (no Cognito; the
 * default locally, and the serverless.yml `auth` parameter's other value). `cognito`: a Cognito access
 * token with the route's scope (src/api/scopes.ts) as well as the API key.
 */
export const AUTH_MODES = { apiKey: 'apiKey', cognito: 'cognito' } as const;
export type AuthMode = (typeof AUTH_MODES)[keyof typeof AUTH_MODES];

export const AUTH_VARIABLES = {
  /** The local gateway's mode (`apiKey` unless set). */
  mode: 'ECOMFLOW_AUTH',
  /** The Cognito user pool `ecomflow users` drives (its id, `<region>_<id>`). */
  userPoolId: 'ECOMFLOW_USER_POOL_ID',
  /** An endpoint override for the Cognito admin API (a local stand-in, in tests); AWS's otherwise. */
  cognitoEndpoint: 'ECOMFLOW_COGNITO_ENDPOINT',
} as const;

/**
 * The local stand-in for a user pool: the file of its signing key in the stack's state folder (beside
 * `api-key`), the issuer its tokens carry, and how long `ecomflow token` tokens last by default (Cognito's
 * default access-token validity is 1 hour).
 */
export const LOCAL_AUTH = {
  keyFile: 'auth-signing-key.json',
  issuer: 'https://cognito-idp.local.amazonaws.com/local_ecomflow',
  algorithm: 'RS256',
  defaultExpiresSeconds: 3600,
  /** The dashboard's token on 127.0.0.1 is renewed well before this. */
  dashboardExpiresSeconds: 12 * 3600,
} as const;

/** @throws ConfigError naming ECOMFLOW_AUTH when it is neither mode */
export function readAuthMode(env: Env = process.env): AuthMode {
  const text = read(env, AUTH_VARIABLES.mode);
  if (text === undefined) return AUTH_MODES.apiKey;
  const mode = Object.values(AUTH_MODES).find((m) => m === text);
  if (!mode) {
    throw new ConfigError(
      `${AUTH_VARIABLES.mode} must be ${Object.values(AUTH_MODES).join(' or ')}, not ${JSON.stringify(text)}`,
      [AUTH_VARIABLES.mode],
    );
  }
  return mode;
}

/** The pool `ecomflow users` drives, and where its admin API answers. */
export interface UserPoolTarget {
  id: string;
  region: string;
  endpoint?: string;
}

/** A user pool id as Cognito writes it: `<region>_<letters and digits>`. */
const POOL_ID = /^[\w-]+_[0-9a-zA-Z]+$/;

/**
 * The pool `ecomflow users` drives: `--pool`, else ECOMFLOW_USER_POOL_ID; its region is the id's prefix.
 * @throws ConfigError when neither is set, or the id is not a pool id
 * @example readUserPool(undefined, { ECOMFLOW_USER_POOL_ID: 'eu-west-1_AbC123' }) // { id, region: 'eu-west-1' }
 */
export function readUserPool(
  flag: string | undefined,
  env: Env = process.env,
): { id: string; region: string } {
  const id = flag?.trim() || read(env, AUTH_VARIABLES.userPoolId);
  if (!id) {
    throw new ConfigError(
      `no user pool: pass --pool <id> or set ${AUTH_VARIABLES.userPoolId} (the stack output UserPoolId)`,
      [AUTH_VARIABLES.userPoolId],
    );
  }
  if (!POOL_ID.test(id)) {
    throw new ConfigError(`user pool id ${JSON.stringify(id)} is not <region>_<id>`, [
      AUTH_VARIABLES.userPoolId,
    ]);
  }
  const endpoint = read(env, AUTH_VARIABLES.cognitoEndpoint);
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new ConfigError(`${AUTH_VARIABLES.cognitoEndpoint} ${JSON.stringify(endpoint)} is not a URL`, [
      AUTH_VARIABLES.cognitoEndpoint,
    ]);
  }
  return { id, region: id.slice(0, id.lastIndexOf('_')), ...(endpoint ? { endpoint } : {}) };
}

/**
 * What src/dashboard/sign-in.js reads from `auth-config.json`: the hosted UI's domain, the reader app
 * client and the redirect URI (the dashboard's own address), and the scopes to ask for.
 */
export interface SignInConfig {
  domain: string;
  clientId: string;
  redirectUri: string;
  scope: string;
}

/** The API function's variables for the sign-in configuration (resources/auth.yml's outputs). */
export const SIGN_IN_VARIABLES = {
  domain: 'AUTH_DOMAIN',
  clientId: 'AUTH_CLIENT_ID',
  redirectUri: 'AUTH_REDIRECT_URI',
} as const;

/** The scopes the dashboard asks for; the pre-token trigger adds an admin's (src/api/scopes.ts). */
export const SIGN_IN_SCOPE = 'openid email ecomflow/read';

/**
 * The sign-in configuration, or null when the API runs with the API key alone (no AUTH_DOMAIN).
 * @throws ConfigError when AUTH_DOMAIN is set but the client or the redirect URI is not
 */
export function readSignInConfig(env: Env = process.env): SignInConfig | null {
  const domain = read(env, SIGN_IN_VARIABLES.domain);
  if (domain === undefined) return null;
  const clientId = read(env, SIGN_IN_VARIABLES.clientId);
  const redirectUri = read(env, SIGN_IN_VARIABLES.redirectUri);
  const missing = [
    ...(clientId ? [] : [SIGN_IN_VARIABLES.clientId]),
    ...(redirectUri ? [] : [SIGN_IN_VARIABLES.redirectUri]),
  ];
  if (missing.length > 0) throw new ConfigError(`sign-in: missing ${missing.join(', ')}`, missing);
  return { domain, clientId: clientId!, redirectUri: redirectUri!, scope: SIGN_IN_SCOPE };
}
