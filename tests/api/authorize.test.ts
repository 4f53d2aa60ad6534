/**
 * The authorization rule: a route's scope against a token's check and claims, decided as API Gateway's
 * Cognito authorizer does (401 for no or a bad token, 403 for a valid one without the scope).
 */
import {
  type AccessTokenClaims,
  AUTH_ERRORS,
  authorize,
  bearerToken,
  DENIAL_REASONS,
  type TokenCheck,
} from '../../src/api/authorize.js';
import { ROUTES } from '../../src/api/routes.js';
import {
  PUBLIC,
  ROLE_GROUPS,
  ROLE_SCOPES,
  ROLES,
  type Role,
  SCOPES,
  scopesOfGroups,
} from '../../src/api/scopes.js';

const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test';
const NOW = 1_800_000_000;
const EXPECTED = { issuer: ISSUER, nowSeconds: NOW };

/** A verified access token's claims for a role, with overrides. */
function verified(role: Role, overrides: Partial<AccessTokenClaims> = {}): TokenCheck {
  return {
    kind: 'verified',
    claims: {
      iss: ISSUER,
      token_use: 'access',
      scope: ROLE_SCOPES[role].join(' '),
      exp: NOW + 60,
      client_id: 'client',
      sub: 'user',
      ...overrides,
    },
  };
}

describe('authorize', () => {
  it('lets anyone call a public route, with no token at all', () => {
    expect(authorize(PUBLIC, { kind: 'missing' }, EXPECTED)).toEqual({ allow: true, claims: null });
  });

  it('allows a token that carries the route scope, among others', () => {
    const decision = authorize(SCOPES.ingest, verified('admin'), EXPECTED);
    expect(decision.allow).toBe(true);
  });

  it.each([
    ['no token', { kind: 'missing' } as TokenCheck, DENIAL_REASONS.missing],
    [
      'a bad signature',
      { kind: 'invalid', detail: 'signature verification failed' } as TokenCheck,
      DENIAL_REASONS.invalid,
    ],
    ['an expired token', verified('analyst', { exp: NOW }), DENIAL_REASONS.expired],
    ['no exp', verified('analyst', { exp: undefined }), DENIAL_REASONS.expired],
    ['another pool', verified('analyst', { iss: `${ISSUER}x` }), DENIAL_REASONS.wrongIssuer],
    ['an ID token', verified('analyst', { token_use: 'id' }), DENIAL_REASONS.notAccessToken],
    ['no client_id', verified('analyst', { client_id: undefined }), DENIAL_REASONS.noClient],
  ])('answers 401 Unauthorized for %s', (_name, token, reason) => {
    const decision = authorize(SCOPES.read, token, EXPECTED);
    expect(decision).toMatchObject({ allow: false, error: AUTH_ERRORS.unauthorized, reason });
    expect(AUTH_ERRORS.unauthorized.status).toBe(401);
  });

  it('answers 403 for a valid token without the route scope, naming the scope it lacks', () => {
    const decision = authorize(SCOPES.ingest, verified('analyst'), EXPECTED);
    expect(decision).toMatchObject({
      allow: false,
      error: AUTH_ERRORS.accessDenied,
      reason: DENIAL_REASONS.missingScope,
    });
    expect(decision.allow === false && decision.detail).toContain(SCOPES.ingest);
    expect(AUTH_ERRORS.accessDenied.status).toBe(403);
  });

  it('does not take a scope that is only a prefix or a part of another', () => {
    const token = verified('analyst', { scope: `${SCOPES.read}x ${SCOPES.admin.toUpperCase()}` });
    expect(authorize(SCOPES.read, token, EXPECTED).allow).toBe(false);
    expect(authorize(SCOPES.admin, token, EXPECTED).allow).toBe(false);
  });
});

describe('the roles against the routes of the manifest', () => {
  /** Which roles may call each route, by the rule itself. */
  const allowed = (role: Role) =>
    ROUTES.filter((r) => authorize(r.scope, verified(role), EXPECTED).allow).map(
      (r) => `${r.method} ${r.resource}`,
    );

  it('lets an analyst read everything and write nothing', () => {
    const reads = ROUTES.filter((r) => r.method === 'GET').map((r) => `${r.method} ${r.resource}`);
    expect(allowed('analyst')).toEqual(reads);
  });

  it("lets an ingest client write invoices and read nothing but the public routes (health, the dashboard's files)", () => {
    expect(allowed('ingest')).toEqual([
      'GET /health',
      'POST /ingest',
      'PUT /invoices/{invoiceNo}',
      'DELETE /invoices/{invoiceNo}',
      'GET /',
      'GET /dashboard/{file}',
    ]);
  });

  it('lets only an admin erase a customer, and an admin call every route', () => {
    expect(allowed('admin')).toEqual(ROUTES.map((r) => `${r.method} ${r.resource}`));
    for (const role of ROLES.filter((r) => r !== 'admin')) {
      expect(allowed(role)).not.toContain('DELETE /customers/{customerId}');
    }
  });
});

describe('scopesOfGroups', () => {
  it('grants the union of the scopes of the roles whose groups a user is in, in SCOPES order', () => {
    expect(scopesOfGroups([ROLE_GROUPS.ingest, ROLE_GROUPS.analyst])).toEqual([SCOPES.read, SCOPES.ingest]);
    expect(scopesOfGroups([ROLE_GROUPS.admin])).toEqual([SCOPES.read, SCOPES.ingest, SCOPES.admin]);
    expect(scopesOfGroups(['someone-else'])).toEqual([]);
  });
});

describe('bearerToken', () => {
  it('reads `Bearer <jwt>` and a bare token, and nothing from an empty header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   abc')).toBe('abc');
    expect(bearerToken('abc.def')).toBe('abc.def');
    expect(bearerToken('  ')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
