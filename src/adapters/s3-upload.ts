import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * Multipart uploads of large files (the CLI's `load --target aws`). Kept apart from s3-objects.ts so that
 * the Lambda bundles, which never upload a stream, do not carry @aws-sdk/lib-storage.
 */

/**
 * Uploads a stream, in parts of `partBytes` (several in flight) when it is larger than one part; S3 then
 * assembles them. Returns the object's ETag.
 */
export async function uploadStream(
  client: S3Client,
  target: { bucket: string; key: string; metadata?: Record<string, string>; contentType?: string },
  body: Readable,
  options: { partBytes?: number; queueSize?: number; onProgress?: (bytes: number) => void } = {},
): Promise<{ etag: string }> {
  const upload = new Upload({
    client,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: body,
      ...(target.metadata ? { Metadata: target.metadata } : {}),
      ...(target.contentType ? { ContentType: target.contentType } : {}),
    },
    // S3's minimum part size; 8 MiB parts and 4 in flight keep memory near 32 MiB for any file size.
    partSize: Math.max(options.partBytes ?? 8 << 20, 5 << 20),
    queueSize: options.queueSize ?? 4,
    leavePartsOnError: false,
  });
  upload.on('httpUploadProgress', (progress) => {
    if (progress.loaded !== undefined) options.onProgress?.(progress.loaded);
  });
  const result = await upload.done();
  return { etag: result.ETag ?? '' };
}
