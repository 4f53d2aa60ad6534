import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { baseClientConfig, sdkRetryStrategy } from '../../src/adapters/aws.js';
import { chunkBySize } from '../../src/adapters/batching.js';
import { backoffDelay, retryOptions } from '../../src/adapters/retry.js';

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

describe('sdkRetryStrategy', () => {
  const options = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

  // The SDK classifies an error before asking: throttling names and 429 are THROTTLING; timeouts, dropped
  // connections and 500/502/503/504 are TRANSIENT. Modeled faults (SERVER_ERROR, CLIENT_ERROR) are final.
  it.each([
    ['THROTTLING', true],
    ['TRANSIENT', true],
    ['SERVER_ERROR', false],
    ['CLIENT_ERROR', false],
  ] as const)('retries a %s error: %s', async (errorType, retried) => {
    // Prepare
    const strategy = sdkRetryStrategy(options);
    const token = await strategy.acquireInitialRetryToken('kinesis');
    // Act
    const next = strategy.refreshRetryTokenForRetry(token, { errorType });
    // Assess
    if (retried) await expect(next).resolves.toBeDefined();
    else await expect(next).rejects.toThrow();
  });

  it('stops after maxAttempts in all, the first included', async () => {
    const strategy = sdkRetryStrategy(options);
    let token = await strategy.acquireInitialRetryToken('kinesis');
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' })).rejects.toThrow();
  });

  it('waits the project backoff between attempts, below its ceiling', async () => {
    const strategy = sdkRetryStrategy(options);
    const first = await strategy.acquireInitialRetryToken('s3');
    const retry = await strategy.refreshRetryTokenForRetry(first, { errorType: 'TRANSIENT' });
    expect(retry.getRetryDelay()).toBeGreaterThanOrEqual(0);
    expect(retry.getRetryDelay()).toBeLessThan(options.baseDelayMs * 2);
  });

  it('is the strategy of every client made from the shared config', () => {
    const config = baseClientConfig({ region: 'eu-west-1', endpoints: {} }, 'kinesis');
    expect(config.retryStrategy).toBeInstanceOf(ConfiguredRetryStrategy);
    const fast = sdkRetryStrategy({ maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 });
    expect(
      baseClientConfig({ region: undefined, endpoints: {} }, 's3', { retryStrategy: fast }).retryStrategy,
    ).toBe(fast);
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
