import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AwsConfig, QuarantineConfig } from '../config/aws.js';
import { baseClientConfig, type ClientOptions } from './aws.js';
import { QuarantineWriteError } from './errors.js';

/** An S3 client; path-style against a local endpoint (s3rver has no virtual-host DNS). */
export function createS3Client(aws: AwsConfig, options: ClientOptions = {}): S3Client {
  const base = baseClientConfig(aws, 's3', options);
  return new S3Client({ ...base, forcePathStyle: base.endpoint !== undefined });
}

/**
 * Writes quarantined rows as one NDJSON object (one JSON row per line) under the quarantine prefix.
 * `key` is relative to the prefix; choosing it deterministically makes a retried write overwrite itself.
 *
 * @throws QuarantineWriteError naming the bucket and key
 * @example await writeQuarantine(s3, config.quarantine, 'api/date=2026-01-02/abc.ndjson', rows)
 */
export async function writeQuarantine(
  client: S3Client,
  quarantine: QuarantineConfig,
  key: string,
  rows: readonly object[],
): Promise<{ bucket: string; key: string }> {
  const fullKey = `${quarantine.prefix}${key}`;
  const body = rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: quarantine.bucket,
        Key: fullKey,
        Body: body,
        ContentType: 'application/x-ndjson',
      }),
    );
  } catch (error) {
    throw new QuarantineWriteError(quarantine.bucket, fullKey, rows.length, { cause: error });
  }
  return { bucket: quarantine.bucket, key: fullKey };
}
