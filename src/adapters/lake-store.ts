import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { LakeStore } from '../lake/compact.js';
import type { LakeObject } from '../lake/compaction.js';
import { LakeDeleteError } from './errors.js';

/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000;

/**
 * The lake's objects in S3 (or s3rver) under `prefix`, for compaction. Day partitions are found as
 * partition projection finds them: each month of the projected years is one listing with a delimiter,
 * whose common prefixes are its days. No listing returns more than 31 prefixes however many objects the
 * lake holds, and none descends more than one level: s3rver's delimiter listing only finds objects one
 * folder below the prefix, and its paging fails past 1,000 keys (README, "Stand-ins").
 */
export function s3LakeStore(
  client: S3Client,
  bucket: string,
  prefix: string,
  years: { first: number; last: number },
): LakeStore {
  async function list(
    listPrefix: string,
    delimiter?: string,
  ): Promise<{ objects: LakeObject[]; prefixes: string[] }> {
    const objects: LakeObject[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: listPrefix,
          Delimiter: delimiter,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key)
          objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
      }
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { objects, prefixes };
  }

  return {
    async listPartitions() {
      const days: string[] = [];
      for (let year = years.first; year <= years.last; year++) {
        for (let month = 1; month <= 12; month++) {
          const monthPrefix = `${prefix}year=${year}/month=${String(month).padStart(2, '0')}/`;
          const { prefixes } = await list(monthPrefix, '/');
          days.push(...prefixes.filter((p) => /^day=\d{2}\/$/.test(p.slice(monthPrefix.length))));
        }
      }
      return days.sort();
    },
    async list(partition) {
      // Only the partition's own objects: a key with a further `/` is not Athena's (nor Firehose's).
      return (await list(partition, '/')).objects.filter((o) => !o.key.endsWith('/'));
    },
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body!.transformToByteArray();
    },
    async write(key, body) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const chunk = keys.slice(i, i + DELETE_BATCH);
        const answer = await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = answer.Errors ?? [];
        if (failed.length > 0) {
          throw new LakeDeleteError(
            bucket,
            failed.map((e) => ({ key: e.Key ?? '', code: e.Code ?? '', message: e.Message ?? '' })),
          );
        }
      }
    },
  };
}
