import type { AwsConfig, Endpoints } from '../config/aws.js';
import { LOCAL_REGION } from '../config/aws.js';

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
}

/** The SDK client settings for `service`, honouring an endpoint override. */
export function baseClientConfig(aws: AwsConfig, service: keyof Endpoints): BaseClientConfig {
  const endpoint = aws.endpoints[service];
  if (endpoint === undefined) return aws.region ? { region: aws.region } : {};
  return { region: aws.region ?? LOCAL_REGION, endpoint, credentials: { ...LOCAL_CREDENTIALS } };
}
