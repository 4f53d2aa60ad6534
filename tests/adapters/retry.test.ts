import { chunkBySize } from '../../src/adapters/batching.js';
import { backoffDelay, isRetryableRequestError, retryOptions } from '../../src/adapters/retry.js';
import { serviceError } from '../helpers/faults.js';

describe('backoff', () => {
  it('draws each delay uniformly below an exponentially growing, capped ceiling', () => {
    const options = retryOptions({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, options))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, { ...options, random: () => 0 })).toBe(0);
  });

  it('keeps at least one attempt', () => {
    expect(retryOptions({ maxAttempts: 0 }).maxAttempts).toBe(1);
  });
});

describe('isRetryableRequestError', () => {
  it.each([
    [serviceError('ThrottlingException', 400, 'client'), true],
    [serviceError('ProvisionedThroughputExceededException', 400, 'client'), true],
    [serviceError('InternalServerError', 500, 'server'), true],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    [serviceError('ValidationException', 400, 'client'), false],
    [serviceError('ResourceNotFoundException', 400, 'client'), false],
    [serviceError('AccessDeniedException', 403, 'client'), false],
  ])('%s → %s', (error, expected) => {
    expect(isRetryableRequestError(error)).toBe(expected);
  });
});

describe('chunkBySize', () => {
  it('closes a chunk at the count or byte limit, in order', () => {
    const sizes = [4, 4, 4, 9, 1, 1, 1];
    expect(chunkBySize([0, 1, 2, 3, 4, 5, 6], (i) => sizes[i]!, { maxCount: 3, maxBytes: 10 })).toEqual([
      [0, 1],
      [2],
      [3, 4],
      [5, 6],
    ]);
  });
});
