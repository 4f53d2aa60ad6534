/**
 * The `--help` (`-h`) option every command takes: it prints the command's usage on stdout and exits 0.
 * Spread into a command's parseArgs options; then `if (values.help) return printUsage(usage)`.
 */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** Prints a command's usage, for `--help`. */
export function printUsage(usage: string): void {
  console.log(usage);
}
