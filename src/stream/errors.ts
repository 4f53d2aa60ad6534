import { EcomflowError } from '../errors.js';
/** Errors of the stream consumer. */

/** A Kinesis record that is not an envelope this service wrote. It is quarantined, never retried. */
export class EnvelopeError extends EcomflowError {
  declare readonly code: 'malformed_record';
  constructor(message: string, options?: ErrorOptions) {
    super('malformed_record', message, options);
    this.name = 'EnvelopeError';
  }
}
