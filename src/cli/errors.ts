import { EcomflowError } from '../errors.js';

/**
 * A command that could not do its work: printed as `ecomflow <command>: <message>`, no stack trace, exit
 * code 1. Wraps the cause (a stack that is not running, a failed query) so that `--verbose` tooling and
 * tests can still reach it.
 */
export class CliError extends EcomflowError {
  readonly exitCode: number;
  constructor(message: string, options: ErrorOptions & { code?: string; exitCode?: number } = {}) {
    super(options.code ?? 'command_failed', message, options);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A command line the user has to fix (an unknown flag, a bad value): exit code 2. */
export class UsageError extends CliError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'usage', exitCode: 2 });
    this.name = 'UsageError';
  }
}
