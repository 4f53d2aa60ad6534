import type { Log } from '../log.js';

/** The stack's human output for what a Lambda logs as JSON on AWS: one line, its fields after it. */
export function humanLog(part: string, log: (message: string) => void): Log {
  const line = (message: string, fields?: Record<string, unknown>) =>
    log(`${part}: ${message}${fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''}`);
  return { info: line, warn: line, error: line };
}
