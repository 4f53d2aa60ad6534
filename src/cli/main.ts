import { BatchError } from '../batch/errors.js';
import { CoreError } from '../core/errors.js';
import { cleanCommand, cleanUsage } from './commands/clean.js';
import { generateCommand, generateUsage } from './commands/generate.js';
import { loadCommand, loadUsage } from './commands/load.js';
import { queryCommand, queryUsage, sqlCommand, sqlUsage } from './commands/query.js';
import { refreshCommand, refreshUsage } from './commands/refresh.js';
import { replayCommand, replayUsage } from './commands/replay.js';
import { upCommand, upUsage } from './commands/up.js';
import { UsageError } from './errors.js';

type Command = { run: (argv: string[]) => Promise<void>; usage: string };

const COMMANDS: Record<string, Command> = {
  clean: { run: cleanCommand, usage: cleanUsage },
  generate: { run: generateCommand, usage: generateUsage },
  up: { run: upCommand, usage: upUsage },
  load: { run: loadCommand, usage: loadUsage },
  query: { run: queryCommand, usage: queryUsage },
  sql: { run: sqlCommand, usage: sqlUsage },
  replay: { run: replayCommand, usage: replayUsage },
  refresh: { run: refreshCommand, usage: refreshUsage },
};

function usage(): string {
  return `usage: ecomflow <command> [options]\n\n${Object.values(COMMANDS)
    .map((c) => c.usage)
    .join('\n\n')}`;
}

/** Runs the CLI; resolves to the process exit code. Known errors print one line, never a stack. */
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
    if (err instanceof UsageError) {
      console.error(`ecomflow ${name}: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof CoreError || err instanceof BatchError || isArgError(err)) {
      console.error(`ecomflow ${name}: ${(err as Error).message}`);
      return 1;
    }
    throw err;
  }
}

function isArgError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
}
