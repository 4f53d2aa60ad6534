import { UsageError } from './errors.js';

/**
 * A `--day`/`--since` option: a calendar day `YYYY-MM-DD` (2011-02-30 is none), or undefined when not given.
 * @throws UsageError naming the option
 */
export function dayOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : null;
  if (!date || Number.isNaN(date.getTime()) || !date.toISOString().startsWith(value)) {
    throw new UsageError(`--${name} must be a date YYYY-MM-DD, not "${value}"`);
  }
  return value;
}
