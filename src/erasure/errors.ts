import { EcomflowError } from '../errors.js';

/** The steps of an erasure, in the order they run (src/erasure/erase.ts). */
export const ERASURE_STEPS = {
  find: 'find',
  dynamodbLines: 'dynamodb_lines',
  lake: 'lake',
  warehouse: 'warehouse',
  refresh: 'refresh',
  dynamodbCustomer: 'dynamodb_customer',
  record: 'record',
} as const;
export type ErasureStep = (typeof ERASURE_STEPS)[keyof typeof ERASURE_STEPS];

/**
 * An erasure that stopped at a step. Every step can be run again, so the remedy is always to run the
 * erasure again. The message names the erasure and the step, never the customer id: it ends up in logs.
 */
export class ErasureError extends EcomflowError {
  constructor(
    readonly erasureId: string,
    readonly step: ErasureStep,
    message: string,
    options?: ErrorOptions,
  ) {
    super(
      'erasure_failed',
      `erasure ${erasureId} stopped at ${step}: ${message}; run it again to finish`,
      options,
    );
    this.name = 'ErasureError';
  }
}
