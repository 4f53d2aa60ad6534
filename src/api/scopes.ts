/**
 * Who may call what: the API's OAuth scopes, the roles people and clients are given, and the scopes each
 * role carries. One home for all three: the route manifest (src/api/routes.ts), the authorization rule
 * (src/api/authorize.ts), the local tokens (src/local/tokens.ts), the Cognito pre-token trigger
 * (src/handlers/pre-token.ts), `ecomflow users` and the template test read them from here.
 */

import { AUTH_MODES, type AuthMode } from '../config/auth.js';

/** The Cognito resource server's identifier: every scope is `<RESOURCE_SERVER>/<name>`. */
export const RESOURCE_SERVER = 'ecomflow';

/** The API's scopes, as an access token's `scope` claim and a method's AuthorizationScopes name them. */
export const SCOPES = {
  read: `${RESOURCE_SERVER}/read`,
  ingest: `${RESOURCE_SERVER}/ingest`,
  admin: `${RESOURCE_SERVER}/admin`,
} as const;
export type ScopeName = keyof typeof SCOPES;
export type Scope = (typeof SCOPES)[ScopeName];

/** The scope of a route anyone may call, with no token and no API key (GET /health). */
export const PUBLIC = 'public';
/** What a route of the manifest requires: one scope, or nothing. */
export type RouteScope = Scope | typeof PUBLIC;

/**
 * The scopes of the routes machines call (client credentials): with Cognito, only these keep the API key
 * beside the token, as the per-client throttle of the usage plan. People sign in through a browser, which
 * cannot hold an API key; their routes (read, admin) take the token alone. resources/api-key-routes.yml
 * says the same to the template.
 */
export const MACHINE_SCOPES: readonly Scope[] = [SCOPES.ingest];

/**
 * Whether a route of this scope takes the API key under an auth mode: never when PUBLIC; always in the
 * API-key-only mode, where the key is the only credential; with Cognito, for MACHINE_SCOPES only.
 * @example needsApiKey(SCOPES.read, 'cognito') === false; needsApiKey(SCOPES.read, 'apiKey') === true
 */
export function needsApiKey(scope: RouteScope, mode: AuthMode): boolean {
  if (scope === PUBLIC) return false;
  return mode === AUTH_MODES.apiKey || MACHINE_SCOPES.includes(scope);
}

/** The roles `ecomflow users add --role` and `ecomflow token --role` take. */
export const ROLES = ['analyst', 'ingest', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The scopes each role carries. An analyst reads; an ingest client writes and cannot read a customer's
 * history; an admin can do everything, erasure included.
 */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  analyst: [SCOPES.read],
  ingest: [SCOPES.ingest],
  admin: [SCOPES.read, SCOPES.ingest, SCOPES.admin],
};

/** The Cognito group of each role (resources/auth.yml creates them; `cognito:groups` names them). */
export const ROLE_GROUPS: Readonly<Record<Role, string>> = {
  analyst: 'analysts',
  ingest: 'ingest-clients',
  admin: 'admins',
};

/** Whether `text` is a role, for parsing command lines. */
export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

/** The short name of a scope (`ecomflow/read` -> `read`), the resource server's ScopeName. */
export function scopeName(scope: Scope): ScopeName {
  return scope.slice(RESOURCE_SERVER.length + 1) as ScopeName;
}

/**
 * The API scopes a user in these Cognito groups is granted: the union of their roles' scopes.
 * @example scopesOfGroups(['analysts']) // ['ecomflow/read']
 */
export function scopesOfGroups(groups: readonly string[]): Scope[] {
  const granted = new Set<Scope>();
  for (const role of ROLES)
    if (groups.includes(ROLE_GROUPS[role])) for (const s of ROLE_SCOPES[role]) granted.add(s);
  return Object.values(SCOPES).filter((s) => granted.has(s));
}

/**
 * What Cognito's pre-token generation trigger (V2_0) changes in a signed-in user's access token: the API
 * scopes their groups grant are added, every other API scope is suppressed, whatever the app client let
 * them ask for. So the one hosted-UI client serves analysts and admins, and only an admin's token carries
 * the admin scope. Scopes outside the API's (openid, email) are left as they are.
 * @example accessTokenScopes(['analysts']) // { scopesToAdd: ['ecomflow/read'], scopesToSuppress: ['ecomflow/ingest', 'ecomflow/admin'] }
 */
export function accessTokenScopes(groups: readonly string[]): {
  scopesToAdd: Scope[];
  scopesToSuppress: Scope[];
} {
  const granted = scopesOfGroups(groups);
  return {
    scopesToAdd: granted,
    scopesToSuppress: Object.values(SCOPES).filter((s) => !granted.includes(s)),
  };
}
