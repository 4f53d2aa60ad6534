import { EcomflowError } from '../errors.js';

/** The cost model's inputs are missing or malformed. */
export class CostError extends EcomflowError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_cost_input', message, options);
    this.name = 'CostError';
  }
}
