import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsConfig } from '../config/aws.js';
import { sdkRetryStrategy } from './aws.js';

/** A Secrets Manager client for the real AWS endpoint. */
export function createSecretsClient(aws: AwsConfig): SecretsManagerClient {
  return new SecretsManagerClient({
    ...(aws.region ? { region: aws.region } : {}),
    retryStrategy: sdkRetryStrategy(),
  });
}

/**
 * A secret's current value as bytes: its string (UTF-8), or its binary value.
 * @throws Error when the secret holds neither
 */
export async function secretBytes(client: SecretsManagerClient, secretId: string): Promise<Uint8Array> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (out.SecretString !== undefined) return new TextEncoder().encode(out.SecretString);
  if (out.SecretBinary !== undefined) return out.SecretBinary;
  throw new Error(`secret ${secretId} holds no value`);
}
