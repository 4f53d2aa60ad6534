import { EcomflowError } from '../errors.js';
/** Errors of the batch path: what the CLI turns into a message and a non-zero exit. */

export class BatchError extends EcomflowError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'BatchError';
  }
}

/** The input file cannot be opened, read or decompressed. */
export class InputError extends BatchError {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super('unreadable_input', message, options);
    this.name = 'InputError';
    this.path = path;
  }
}
