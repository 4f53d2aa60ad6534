import { parseArgs } from 'node:util';
import { cognitoUsers, createCognitoClient, type UserDirectory } from '../../adapters/cognito.js';
import { isRole, ROLE_GROUPS, ROLE_SCOPES, ROLES } from '../../api/scopes.js';
import { AUTH_VARIABLES, readUserPool } from '../../config/auth.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatTable } from '../table.js';

export const usersUsage = `ecomflow users add <email> --role ${ROLES.join('|')} [--pool <id>]
ecomflow users list [--pool <id>] [--json]
ecomflow users remove <email> [--pool <id>]

Manages the people and clients of the deployed API's Cognito user pool (auth=cognito, docs/deploy.md).
add creates the user (Cognito emails a temporary password) and puts them in the role's group:
${ROLES.map((r) => `${r} -> ${ROLE_GROUPS[r]} (${ROLE_SCOPES[r].join(' ')})`).join('; ')}; adding a role
to an existing user only adds the group. list shows every user with their roles; remove deletes the user.
The pool is --pool, else $${AUTH_VARIABLES.userPoolId} (the stack's UserPoolId output); AWS credentials
come from the usual environment or profile.`;

/** An email as the pool takes it as a username: one @, something either side, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export async function usersCommand(argv: string[], directory?: UserDirectory): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...HELP_OPTION,
      role: { type: 'string' },
      pool: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.help) return printUsage(usersUsage);
  const [action, ...rest] = positionals;
  const email = (): string => {
    const [text, ...extra] = rest;
    if (text === undefined || extra.length > 0) throw new UsageError(`expected one email\n\n${usersUsage}`);
    if (!EMAIL.test(text)) throw new UsageError(`"${text}" is not an email address`);
    return text.toLowerCase();
  };
  // Arguments first, so that a command line to fix never needs credentials or a pool.
  let run: (users: UserDirectory) => Promise<void>;
  if (action === 'add') {
    const address = email();
    const role = values.role;
    if (role === undefined) throw new UsageError(`--role is required: one of ${ROLES.join(', ')}`);
    if (!isRole(role)) throw new UsageError(`--role "${role}" is not one of ${ROLES.join(', ')}`);
    run = async (users) => {
      const added = await users.add(address, role);
      console.log(
        added.created
          ? `added ${address} as ${role} (${ROLE_GROUPS[role]}); Cognito has emailed a temporary password`
          : `${address} already existed; now also ${role} (${ROLE_GROUPS[role]})`,
      );
    };
  } else if (action === 'list') {
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"\n\n${usersUsage}`);
    run = async (users) => {
      const list = await users.list();
      if (values.json) return console.log(JSON.stringify(list, null, 2));
      console.log(formatTable(list.map((u) => ({ ...u, roles: u.roles.join(' ') }))));
    };
  } else if (action === 'remove') {
    const address = email();
    run = async (users) => {
      if (!(await users.remove(address))) throw new CliError(`no user ${address} in the pool`);
      console.log(`removed ${address}`);
    };
  } else {
    throw new UsageError(
      `${action === undefined ? 'expected' : `unknown action "${action}":`} add, list or remove\n\n${usersUsage}`,
    );
  }
  if (directory) return run(directory);
  const pool = readUserPool(values.pool);
  const client = createCognitoClient(pool);
  try {
    await run(cognitoUsers(client, pool.id)).catch((error: Error) => {
      if (error instanceof CliError) throw error;
      // Cognito's own refusals (no such pool, no permission, a bad password policy) in one line.
      throw new CliError(`Cognito refused (${error.name}): ${error.message}`, { cause: error });
    });
  } finally {
    client.destroy();
  }
}
