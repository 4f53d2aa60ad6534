/**
 * The user pool's admin API, for `ecomflow users`: create a user in a role's group, list users with their
 * roles, delete a user. Only this file talks to Cognito.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersInGroupCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { ROLE_GROUPS, ROLES, type Role } from '../api/scopes.js';
import type { UserPoolTarget } from '../config/auth.js';
import { LOCAL_CREDENTIALS, sdkRetryStrategy } from './aws.js';

/** A Cognito admin client for the pool's region, or for a local stand-in with dummy keys. */
export function createCognitoClient(pool: UserPoolTarget): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: pool.region,
    retryStrategy: sdkRetryStrategy(),
    ...(pool.endpoint ? { endpoint: pool.endpoint, credentials: { ...LOCAL_CREDENTIALS } } : {}),
  });
}

export interface PoolUser {
  email: string;
  roles: Role[];
  /** Cognito's UserStatus: FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED. */
  status: string;
  enabled: boolean;
}

/** What `users add` did: a new user (Cognito emailed a temporary password) or one that already existed. */
export interface AddedUser {
  email: string;
  role: Role;
  created: boolean;
}

export interface UserDirectory {
  add(email: string, role: Role): Promise<AddedUser>;
  list(): Promise<PoolUser[]>;
  /** @returns false when there was no such user */
  remove(email: string): Promise<boolean>;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : '');

/** The admin API of one pool. The pool signs users in by email, so the email is the username. */
export function cognitoUsers(client: CognitoIdentityProviderClient, poolId: string): UserDirectory {
  return {
    async add(email, role) {
      let created = true;
      try {
        // Cognito emails the user a temporary password (the pool's invitation), to change at first sign-in.
        await client.send(
          new AdminCreateUserCommand({
            UserPoolId: poolId,
            Username: email,
            UserAttributes: [
              { Name: 'email', Value: email },
              { Name: 'email_verified', Value: 'true' },
            ],
            DesiredDeliveryMediums: ['EMAIL'],
          }),
        );
      } catch (error) {
        // Adding a role to someone who exists: the group is what changes.
        if (errorName(error) !== 'UsernameExistsException') throw error;
        created = false;
      }
      await client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: email, GroupName: ROLE_GROUPS[role] }),
      );
      return { email, role, created };
    },

    async list() {
      const roles = new Map<string, Role[]>();
      for (const role of ROLES) {
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListUsersInGroupCommand({
              UserPoolId: poolId,
              GroupName: ROLE_GROUPS[role],
              NextToken: token,
            }),
          );
          for (const u of page.Users ?? []) {
            const name = u.Username ?? '';
            roles.set(name, [...(roles.get(name) ?? []), role]);
          }
          token = page.NextToken;
        } while (token);
      }
      const users: PoolUser[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListUsersCommand({ UserPoolId: poolId, PaginationToken: token }));
        for (const u of page.Users ?? []) users.push(poolUser(u, roles.get(u.Username ?? '') ?? []));
        token = page.PaginationToken;
      } while (token);
      return users.sort((a, b) => a.email.localeCompare(b.email));
    },

    async remove(email) {
      try {
        await client.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: email }));
        return true;
      } catch (error) {
        if (errorName(error) === 'UserNotFoundException') return false;
        throw error;
      }
    },
  };
}

function poolUser(u: UserType, roles: Role[]): PoolUser {
  const email = u.Attributes?.find((a) => a.Name === 'email')?.Value ?? u.Username ?? '';
  return { email, roles, status: u.UserStatus ?? 'UNKNOWN', enabled: u.Enabled ?? true };
}
