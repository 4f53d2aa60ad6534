import { parseArgs } from 'node:util';
import { isRole, ROLE_SCOPES, ROLES } from '../../api/scopes.js';
import { AUTH_VARIABLES, LOCAL_AUTH } from '../../config/auth.js';
import { readStackSettings, STACK_VARIABLES } from '../../config/local.js';
import { loadOrCreateSigningKey, signAccessToken } from '../../local/tokens.js';
import { UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';

export const tokenUsage = `ecomflow token --role ${ROLES.join('|')} [--expires <duration>]

Prints an access token for the local stack, signed with its key (<$${STACK_VARIABLES.home}>/${LOCAL_AUTH.keyFile},
made on first use), with the claims a Cognito access token carries and the role's scopes:
${ROLES.map((r) => `${r} ${ROLE_SCOPES[r].join(' ')}`).join('; ')}. Send it as
\`Authorization: Bearer <token>\` with the API key. The local gateway checks a token whenever one is sent,
and requires one when the stack runs with ${AUTH_VARIABLES.mode}=cognito. --expires: 90s, 15m, 1h (default), 2d.`;

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A duration as seconds: a number with a unit (s, m, h, d) or a plain number of seconds.
 * @example parseDuration('15m') // 900
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * (UNITS[match[2] || 's'] ?? 1);
  return seconds > 0 ? seconds : null;
}

export async function tokenCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...HELP_OPTION, role: { type: 'string' }, expires: { type: 'string' } },
  });
  if (values.help) return printUsage(tokenUsage);
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${tokenUsage}`);
  const role = values.role;
  if (role === undefined) throw new UsageError(`--role is required\n\n${tokenUsage}`);
  if (!isRole(role)) throw new UsageError(`--role "${role}" is not one of ${ROLES.join(', ')}`);
  const expires =
    values.expires === undefined ? LOCAL_AUTH.defaultExpiresSeconds : parseDuration(values.expires);
  if (expires === null) {
    throw new UsageError(`--expires "${values.expires}" is not a duration such as 90s, 15m, 1h or 2d`);
  }
  const key = await loadOrCreateSigningKey(readStackSettings().home);
  console.log(await signAccessToken(key, { role, expiresInSeconds: expires }));
}
