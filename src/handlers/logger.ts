import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log } from '../log.js';

/**
 * The Lambdas' one structured logger: JSON lines with the level, the service, and (once a handler adds the
 * invocation's context) the function, the request id and `cold_start`. The level comes from
 * POWERTOOLS_LOG_LEVEL (default INFO), read by the library itself.
 */
export const logger = new Logger({ serviceName: 'ecomflow' });

/** `Log` (src/log.ts) over a Powertools logger: the fields become top-level keys of the JSON line. */
export function asLog(powertools: Logger): Log {
  return {
    info: (message, fields = {}) => powertools.info(message, fields as LogAttributes),
    warn: (message, fields = {}) => powertools.warn(message, fields as LogAttributes),
    error: (message, fields = {}) => powertools.error(message, fields as LogAttributes),
  };
}
