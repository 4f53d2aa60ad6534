import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { RetryStrategyV2 } from '@smithy/types';
import type { AwsConfig, Endpoints } from '../config/aws.js';
import { LOCAL_REGION } from '../config/aws.js';
import { backoffDelay, DEFAULT_RETRY, type RetryOptions } from './retry.js';

/**
 * Static credentials for local stand-ins. s3rver accepts only this key pair; kinesalite, dynalite and the
 * local Firehose accept any, so one pair serves them all.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Client settings shared by every SDK client: the real AWS endpoint, or a local one with dummy keys. */
export interface BaseClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  retryStrategy: RetryStrategyV2;
}

/** What a client factory takes beside the configuration. */
export interface ClientOptions {
  /** Retries of whole requests; tests pass a fast one (sdkRetryStrategy with no delay). */
  retryStrategy?: RetryStrategyV2;
}

/**
 * The SDK's retry strategy, the one retry of whole requests: throttling, 5xx, timeouts and dropped
 * connections, as the SDK classifies them, with `DEFAULT_RETRY`'s attempts and jittered exponential
 * backoff. The adapters' own rounds (batching.ts) resend only the entries a service refused in an answer
 * that succeeded, which the SDK cannot see; an error that escapes the SDK is final.
 */
export function sdkRetryStrategy(options: RetryOptions = DEFAULT_RETRY): RetryStrategyV2 {
  return new ConfiguredRetryStrategy(options.maxAttempts, (attempt) => backoffDelay(attempt, options));
}

/** The SDK client settings for `service`, honouring an endpoint override. */
export function baseClientConfig(
  aws: AwsConfig,
  service: keyof Endpoints,
  options: ClientOptions = {},
): BaseClientConfig {
  const retryStrategy = options.retryStrategy ?? sdkRetryStrategy();
  const endpoint = aws.endpoints[service];
  if (endpoint === undefined) return { ...(aws.region ? { region: aws.region } : {}), retryStrategy };
  return {
    region: aws.region ?? LOCAL_REGION,
    endpoint,
    credentials: { ...LOCAL_CREDENTIALS },
    retryStrategy,
  };
}
