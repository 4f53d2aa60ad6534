/**
 * The one authorization rule of the API, the same for the local gateway and (as configuration) for API
 * Gateway's Cognito authorizer: a route's scope against the claims of a verified access token. Pure: the
 * signature is checked by whoever holds the key (src/local/tokens.ts locally, API Gateway on AWS), and the
 * outcome of that check is this rule's input.
 *
 * What API Gateway answers (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html):
 * UNAUTHORIZED (401) when the Cognito authorizer cannot authenticate the caller (no token, a bad signature,
 * an expired token, another pool's issuer), ACCESS_DENIED (403) when access is denied: here, a valid token
 * without the route's scope. Cognito's access-token claims are those of
 * https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html.
 */
import { PUBLIC, type RouteScope } from './scopes.js';

/** API Gateway's own answers for a refused token, in the shape of src/local/gateway.ts's GATEWAY_ERRORS. */
export const AUTH_ERRORS = {
  unauthorized: {
    status: 401,
    type: 'UnauthorizedException',
    responseType: 'UNAUTHORIZED',
    message: 'Unauthorized',
  },
  accessDenied: {
    status: 403,
    type: 'AccessDeniedException',
    responseType: 'ACCESS_DENIED',
    message: 'User is not authorized to access this resource',
  },
} as const;
export type AuthError = (typeof AUTH_ERRORS)[keyof typeof AUTH_ERRORS];

/** The claims of a Cognito user pool access token that the rule reads (others pass through). */
export interface AccessTokenClaims {
  iss?: unknown;
  token_use?: unknown;
  /** Space-separated scopes, as OAuth 2.0 and Cognito write them. */
  scope?: unknown;
  /** Seconds since the epoch. */
  exp?: unknown;
  client_id?: unknown;
  sub?: unknown;
  'cognito:groups'?: unknown;
  [claim: string]: unknown;
}

/** What checking the `Authorization` header's signature found, before the rule looks at claims. */
export type TokenCheck =
  | { kind: 'missing' }
  /** Not a JWT, or its signature does not verify with the pool's key. */
  | { kind: 'invalid'; detail: string }
  | { kind: 'verified'; claims: AccessTokenClaims };

/** Why a token was refused; for logs and tests (the caller only sees API Gateway's message). */
export const DENIAL_REASONS = {
  missing: 'missing',
  invalid: 'invalid',
  wrongIssuer: 'wrong_issuer',
  notAccessToken: 'not_access_token',
  expired: 'expired',
  noClient: 'no_client_id',
  missingScope: 'missing_scope',
} as const;
export type DenialReason = (typeof DENIAL_REASONS)[keyof typeof DENIAL_REASONS];

export type Decision =
  | { allow: true; claims: AccessTokenClaims | null }
  | { allow: false; error: AuthError; reason: DenialReason; detail: string };

export interface Expectation {
  /** The issuer the pool's tokens carry: `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  issuer: string;
  /** Now, in seconds since the epoch. */
  nowSeconds: number;
}

/**
 * Whether a request to a route of `scope` may go on, given what its token's check found.
 * @example authorize(SCOPES.ingest, { kind: 'verified', claims: analystClaims }, expected) // 403
 */
export function authorize(scope: RouteScope, token: TokenCheck, expected: Expectation): Decision {
  if (scope === PUBLIC) return { allow: true, claims: null };
  const deny = (error: AuthError, reason: DenialReason, detail: string): Decision => ({
    allow: false,
    error,
    reason,
    detail,
  });
  const { unauthorized, accessDenied } = AUTH_ERRORS;
  if (token.kind === 'missing') return deny(unauthorized, DENIAL_REASONS.missing, 'no bearer token');
  if (token.kind === 'invalid') return deny(unauthorized, DENIAL_REASONS.invalid, token.detail);
  const c = token.claims;
  if (c.iss !== expected.issuer) {
    return deny(
      unauthorized,
      DENIAL_REASONS.wrongIssuer,
      `issuer ${JSON.stringify(c.iss)} is not ${expected.issuer}`,
    );
  }
  // An ID token carries no scopes; a method with scopes takes access tokens only.
  if (c.token_use !== 'access') {
    return deny(
      unauthorized,
      DENIAL_REASONS.notAccessToken,
      `token_use ${JSON.stringify(c.token_use)} is not "access"`,
    );
  }
  if (typeof c.exp !== 'number' || c.exp <= expected.nowSeconds) {
    return deny(
      unauthorized,
      DENIAL_REASONS.expired,
      `exp ${JSON.stringify(c.exp)} is not after ${expected.nowSeconds}`,
    );
  }
  if (typeof c.client_id !== 'string' || c.client_id === '') {
    return deny(unauthorized, DENIAL_REASONS.noClient, 'no client_id claim');
  }
  const granted = typeof c.scope === 'string' ? c.scope.split(' ').filter(Boolean) : [];
  if (!granted.includes(scope)) {
    return deny(accessDenied, DENIAL_REASONS.missingScope, `scope "${granted.join(' ')}" lacks ${scope}`);
  }
  return { allow: true, claims: c };
}

/**
 * The token of an `Authorization` header: `Bearer <jwt>`, or a bare JWT as API Gateway's Cognito
 * authorizer also takes; undefined when there is none.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value);
  return (match ? match[1]! : value).trim() || undefined;
}
