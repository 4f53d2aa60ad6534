import { EcomflowError } from '../errors.js';

/** Errors of `ecomflow replay`, the load-generating client of a running API. */

export const REPLAY_ERROR_CODES = {
  /** The file cannot be read, or its header lacks required columns. */
  bad_input: 'bad_input',
  /** The stack does not answer at the URL in stack.json. */
  not_running: 'not_running',
  /** The API refused a request in a way retrying cannot fix (403, 413, an unexpected 400). */
  refused: 'refused',
  /** The API kept failing (5xx, connection errors) after the retries. */
  unavailable: 'unavailable',
} as const;
export type ReplayErrorCode = (typeof REPLAY_ERROR_CODES)[keyof typeof REPLAY_ERROR_CODES];

/** A replay that could not start or had to stop. The message names the request or file at fault. */
export class ReplayError extends EcomflowError {
  declare readonly code: ReplayErrorCode;
  constructor(code: ReplayErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'ReplayError';
  }
}
