import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * Reading and writing S3 objects for the batch path: JSON records of a load, byte ranges of an upload,
 * listings, and multipart uploads of large files.
 */

/** What HeadObject says of an object. */
export interface ObjectHead {
  size: number;
  etag: string;
  /** User metadata (`x-amz-meta-*`), keys lower-cased. */
  metadata: Record<string, string>;
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** HeadObject, or null when there is no such object. */
export async function headObject(client: S3Client, bucket: string, key: string): Promise<ObjectHead | null> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(head.Metadata ?? {})) metadata[k.toLowerCase()] = v;
    return { size: head.ContentLength ?? 0, etag: head.ETag ?? '', metadata };
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** A JSON object, or null when there is no such object. */
export async function readJson<T>(client: S3Client, bucket: string, key: string): Promise<T | null> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await object.Body!.transformToString('utf-8')) as T;
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** Writes `value` as pretty JSON; the same value always gives the same bytes. */
export async function writeJson(
  client: S3Client,
  bucket: string,
  key: string,
  value: unknown,
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${JSON.stringify(value, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
}

/** Writes bytes or text; without a content type S3 stores `binary/octet-stream`. */
export async function writeObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  contentType?: string,
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(contentType === undefined ? {} : { ContentType: contentType }),
    }),
  );
}

/** Whether the bucket exists and this caller may use it (HeadBucket); any failure counts as no. */
export async function bucketReachable(client: S3Client, bucket: string): Promise<boolean> {
  return client.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    () => false,
  );
}

/**
 * The bytes `[start, end)` of an object as a stream. `etag` pins the version read: if the object was
 * replaced since it was planned, S3 answers 412 instead of mixing two files.
 */
export async function readRange(
  client: S3Client,
  bucket: string,
  key: string,
  range: { start: number; end: number; etag?: string },
): Promise<Readable> {
  if (range.end <= range.start) {
    return Readable.from([]);
  }
  const object = await client.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      Range: `bytes=${range.start}-${range.end - 1}`,
      ...(range.etag ? { IfMatch: range.etag } : {}),
    }),
  );
  return object.Body as Readable;
}

/** Every key under `prefix`, in S3's (lexicographic) order. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}
