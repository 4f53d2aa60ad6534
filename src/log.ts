/**
 * What code that logs needs of a logger: a message and its fields, at a level. The Lambdas pass the
 * structured logger of src/handlers/logger.ts (Powertools), which adds the request id and the cold-start
 * flag; tests pass one that records. Keeping the interface this small keeps the modules below the handlers
 * free of the logging library.
 */
export interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
