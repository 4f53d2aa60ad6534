import { EcomflowError } from '../errors.js';
import { auditCommand, auditUsage } from './commands/audit.js';
import { cleanCommand, cleanUsage } from './commands/clean.js';
import { compactCommand, compactUsage } from './commands/compact.js';
import { costCommand, costUsage } from './commands/cost.js';
import { eraseCommand, eraseUsage } from './commands/erase.js';
import { generateCommand, generateUsage } from './commands/generate.js';
import { loadCommand, loadUsage } from './commands/load.js';
import { quarantineCommand, quarantineUsage } from './commands/quarantine.js';
import { queryCommand, queryUsage, sqlCommand, sqlUsage } from './commands/query.js';
import { redriveCommand, redriveUsage } from './commands/redrive.js';
import { refreshCommand, refreshUsage } from './commands/refresh.js';
import { replayCommand, replayUsage } from './commands/replay.js';
import { tokenCommand, tokenUsage } from './commands/token.js';
import { upCommand, upUsage } from './commands/up.js';
import { usersCommand, usersUsage } from './commands/users.js';
import { CliError } from './errors.js';

type Command = { run: (argv: string[]) => Promise<void>; usage: string };

/** Every command, by name; each takes `--help` (`-h`), which prints its usage and exits 0. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  clean: { run: cleanCommand, usage: cleanUsage },
  generate: { run: generateCommand, usage: generateUsage },
  up: { run: upCommand, usage: upUsage },
  load: { run: loadCommand, usage: loadUsage },
  query: { run: queryCommand, usage: queryUsage },
  sql: { run: sqlCommand, usage: sqlUsage },
  replay: { run: replayCommand, usage: replayUsage },
  refresh: { run: refreshCommand, usage: refreshUsage },
  compact: { run: compactCommand, usage: compactUsage },
  audit: { run: auditCommand, usage: auditUsage },
  quarantine: { run: quarantineCommand, usage: quarantineUsage },
  redrive: { run: redriveCommand, usage: redriveUsage },
  erase: { run: eraseCommand, usage: eraseUsage },
  cost: { run: costCommand, usage: costUsage },
  token: { run: tokenCommand, usage: tokenUsage },
  users: { run: usersCommand, usage: usersUsage },
};

function usage(): string {
  return `usage: ecomflow <command> [options]\n\n${Object.values(COMMANDS)
    .map((c) => c.usage)
    .join('\n\n')}`;
}

/**
 * Runs the CLI; resolves to the process exit code: 0 done, 1 a command that failed, 2 a command line to
 * fix. Known errors print one line, never a stack.
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`ecomflow: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (err) {
    // Ours (an EcomflowError, with a message meant for a person) or node's argument parser: one line.
    // Anything else is a bug, and its stack is worth seeing.
    if (!(err instanceof EcomflowError) && !isArgError(err)) throw err;
    console.error(`ecomflow ${name}: ${(err as Error).message}`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

function isArgError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
}
