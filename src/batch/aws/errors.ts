import { BatchError } from '../errors.js';

/**
 * Errors of the batch path on AWS. Step Functions matches a Lambda error by its `name`, so each class here
 * sets one, and the state machine (resources/batch-state-machine.json) retries only those that can pass.
 */

/** The uploaded object cannot be loaded as it is (too large to clean in one invocation, unreadable). */
export class UnloadableObjectError extends BatchError {
  readonly source: string;
  constructor(source: string, message: string, options?: ErrorOptions) {
    super('unloadable_object', message, options);
    this.name = 'UnloadableObjectError';
    this.source = source;
  }
}

/** A step found the load's own records (plan, range results) missing or inconsistent. */
export class LoadStateError extends BatchError {
  readonly sourceId: string;
  constructor(sourceId: string, message: string, options?: ErrorOptions) {
    super('load_state', message, options);
    this.name = 'LoadStateError';
    this.sourceId = sourceId;
  }
}

/** An event the batch function does not know how to handle. */
export class BatchEventError extends BatchError {
  constructor(message: string) {
    super('invalid_batch_event', message);
    this.name = 'BatchEventError';
  }
}

/** `ecomflow load --target aws`: the load ended in `failed`, or its status never appeared. */
export class RemoteLoadError extends BatchError {
  readonly sourceId: string;
  constructor(sourceId: string, message: string, options?: ErrorOptions) {
    super('remote_load_failed', message, options);
    this.name = 'RemoteLoadError';
    this.sourceId = sourceId;
  }
}
