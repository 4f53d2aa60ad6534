/**
 * `ecomflow users`: its arguments, and the admin API calls it makes. There is no Cognito emulator, so a
 * small local HTTP stand-in of Cognito's JSON API (X-Amz-Target AWSCognitoIdentityProviderService.*)
 * records the calls and answers from an in-memory pool: a fake, which the real SDK client talks to over
 * HTTP through ECOMFLOW_COGNITO_ENDPOINT, so the requests' shape is the SDK's own.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import { ROLE_GROUPS } from '../../src/api/scopes.js';
import { main } from '../../src/cli/main.js';
import { AUTH_VARIABLES } from '../../src/config/auth.js';
import { close } from '../../src/local/emulators.js';

const POOL = 'eu-west-1_Test123';

interface Call {
  action: string;
  body: Record<string, unknown>;
}

/** The stand-in: users by email (their username is a UUID, as with email sign-in), and their groups. */
function cognitoStandIn(calls: Call[], pageSize = 1) {
  const users = new Map<string, { username: string; groups: Set<string> }>();
  const fail = (type: string, message: string) => ({ status: 400, body: { __type: type, message } });
  const userOf = (u: { username: string }, email: string) => ({
    Username: u.username,
    Attributes: [{ Name: 'email', Value: email }],
    UserStatus: 'FORCE_CHANGE_PASSWORD',
    Enabled: true,
  });
  const page = <T>(items: T[], token: unknown) => {
    const start = Number(token ?? 0);
    const next = start + pageSize < items.length ? String(start + pageSize) : undefined;
    return { items: items.slice(start, start + pageSize), next };
  };
  const answer = (action: string, b: Record<string, unknown>): { status: number; body: unknown } => {
    if (b['UserPoolId'] !== POOL)
      return fail('ResourceNotFoundException', `User pool ${String(b['UserPoolId'])} does not exist.`);
    const email = String(b['Username'] ?? '');
    switch (action) {
      case 'AdminCreateUser':
        if (users.has(email))
          return fail('UsernameExistsException', 'An account with the given email already exists.');
        users.set(email, { username: randomUUID(), groups: new Set() });
        return { status: 200, body: { User: userOf(users.get(email)!, email) } };
      case 'AdminAddUserToGroup': {
        const u = users.get(email);
        if (!u) return fail('UserNotFoundException', 'User does not exist.');
        u.groups.add(String(b['GroupName']));
        return { status: 200, body: {} };
      }
      case 'ListUsersInGroup': {
        const all = [...users].filter(([, u]) => u.groups.has(String(b['GroupName'])));
        const { items, next } = page(all, b['NextToken']);
        return { status: 200, body: { Users: items.map(([e, u]) => userOf(u, e)), NextToken: next } };
      }
      case 'ListUsers': {
        const { items, next } = page([...users], b['PaginationToken']);
        return { status: 200, body: { Users: items.map(([e, u]) => userOf(u, e)), PaginationToken: next } };
      }
      case 'AdminDeleteUser':
        if (!users.delete(email)) return fail('UserNotFoundException', 'User does not exist.');
        return { status: 200, body: {} };
      default:
        return fail('InvalidParameterException', `the stand-in does not know ${action}`);
    }
  };
  return createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const action = String(req.headers['x-amz-target'] ?? '').replace(
        'AWSCognitoIdentityProviderService.',
        '',
      );
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      calls.push({ action, body });
      const out = answer(action, body);
      res.writeHead(out.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(out.body));
    });
  });
}

describe('ecomflow users', () => {
  let server: Server;
  let calls: Call[];
  let output: string[];
  let errors: string[];
  const saved = { ...process.env };

  beforeEach(async () => {
    calls = [];
    output = [];
    errors = [];
    server = cognitoStandIn(calls);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env[AUTH_VARIABLES.cognitoEndpoint] =
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env[AUTH_VARIABLES.userPoolId] = POOL;
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    process.env = { ...saved };
    await close(server);
  });

  it('adds a user: AdminCreateUser with the email, then AdminAddUserToGroup with the role group', async () => {
    // Act
    const code = await main(['users', 'add', 'Ana@Example.com', '--role', 'admin']);

    // Assess
    expect(code).toBe(0);
    expect(calls).toEqual([
      {
        action: 'AdminCreateUser',
        body: expect.objectContaining({
          UserPoolId: POOL,
          Username: 'ana@example.com',
          DesiredDeliveryMediums: ['EMAIL'],
          UserAttributes: [
            { Name: 'email', Value: 'ana@example.com' },
            { Name: 'email_verified', Value: 'true' },
          ],
        }),
      },
      {
        action: 'AdminAddUserToGroup',
        body: { UserPoolId: POOL, Username: 'ana@example.com', GroupName: ROLE_GROUPS.admin },
      },
    ]);
    expect(output.join('\n')).toContain('added ana@example.com as admin');
  });

  it('adds a role to an existing user without creating them again', async () => {
    await main(['users', 'add', 'bo@example.com', '--role', 'analyst']);
    output = [];
    expect(await main(['users', 'add', 'bo@example.com', '--role', 'ingest'])).toBe(0);
    expect(output.join('\n')).toContain('already existed; now also ingest');
    expect(calls.filter((c) => c.action === 'AdminAddUserToGroup').map((c) => c.body['GroupName'])).toEqual([
      ROLE_GROUPS.analyst,
      ROLE_GROUPS.ingest,
    ]);
  });

  it('lists every user with their roles, through every page of each list', async () => {
    await main(['users', 'add', 'ana@example.com', '--role', 'admin']);
    await main(['users', 'add', 'bo@example.com', '--role', 'analyst']);
    await main(['users', 'add', 'cy@example.com', '--role', 'analyst']);
    output = [];
    expect(await main(['users', 'list', '--json'])).toBe(0);
    expect(JSON.parse(output.join('\n'))).toEqual([
      { email: 'ana@example.com', roles: ['admin'], status: 'FORCE_CHANGE_PASSWORD', enabled: true },
      { email: 'bo@example.com', roles: ['analyst'], status: 'FORCE_CHANGE_PASSWORD', enabled: true },
      { email: 'cy@example.com', roles: ['analyst'], status: 'FORCE_CHANGE_PASSWORD', enabled: true },
    ]);
    // One user a page: the analysts' group and the pool each took more than one request.
    expect(calls.filter((c) => c.action === 'ListUsers')).toHaveLength(3);
  });

  it('removes a user with AdminDeleteUser, and says so when there is none', async () => {
    await main(['users', 'add', 'bo@example.com', '--role', 'analyst']);
    expect(await main(['users', 'remove', 'bo@example.com'])).toBe(0);
    expect(calls.at(-1)).toEqual({
      action: 'AdminDeleteUser',
      body: { UserPoolId: POOL, Username: 'bo@example.com' },
    });
    expect(await main(['users', 'remove', 'bo@example.com'])).toBe(1);
    expect(errors.join('\n')).toContain('no user bo@example.com in the pool');
  });

  it("reports Cognito's refusal in one line", async () => {
    expect(await main(['users', 'list', '--pool', 'eu-west-1_Other1'])).toBe(1);
    expect(errors.join('\n')).toMatch(
      /Cognito refused \(ResourceNotFoundException\): User pool eu-west-1_Other1/,
    );
  });

  it.each([
    [
      ['users', 'add', 'ana@example.com', '--role', 'reader'],
      '--role "reader" is not one of analyst, ingest, admin',
    ],
    [['users', 'add', 'ana@example.com'], '--role is required'],
    [['users', 'add', 'not-an-email', '--role', 'analyst'], '"not-an-email" is not an email address'],
    [['users', 'remove'], 'expected one email'],
    [['users', 'promote', 'ana@example.com'], 'unknown action "promote"'],
  ])('refuses %j with exit code 2, a message, and no call', async (argv, message) => {
    expect(await main(argv)).toBe(2);
    expect(errors.join('\n')).toContain(message);
    expect(calls).toEqual([]);
  });

  it('needs a pool: without --pool or ECOMFLOW_USER_POOL_ID it says which to set', async () => {
    delete process.env[AUTH_VARIABLES.userPoolId];
    expect(await main(['users', 'list'])).toBe(1);
    expect(errors.join('\n')).toContain(AUTH_VARIABLES.userPoolId);
    expect(calls).toEqual([]);
  });
});
