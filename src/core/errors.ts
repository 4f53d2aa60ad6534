import { EcomflowError } from '../errors.js';
/** Errors of the cleaning core. Each carries a stable `code` callers can branch on. */

export class CoreError extends EcomflowError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'CoreError';
  }
}

/** The header is absent or lacks required columns. `missing` names them in source spelling. */
export class HeaderError extends CoreError {
  readonly missing: readonly string[];
  constructor(message: string, missing: readonly string[]) {
    super('missing_columns', message);
    this.name = 'HeaderError';
    this.missing = missing;
  }
}

/** A body that is not rows at all: JSON that does not parse, or is not an array of row objects. */
export class BodyError extends CoreError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_body', message, options);
    this.name = 'BodyError';
  }
}

/** The bytes cannot be decoded in the chosen encoding. */
export class EncodingError extends CoreError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_encoding', message, options);
    this.name = 'EncodingError';
  }
}
