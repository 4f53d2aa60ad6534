import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver, { type S3rverOptions } from 's3rver';
import FilesystemStore, { type StoredObject } from 's3rver/lib/stores/filesystem.js';

/**
 * s3rver's folder store with S3's PUT semantics: an object is whole or absent. s3rver writes an object in
 * place, so a process killed mid-PUT leaves a torn `._S3rver_object` file, which S3 never shows and which
 * the local lake (DuckDB over this folder, as Athena over the bucket) then fails to read. Here the body goes
 * to a sibling `.partial-…` file (which no listing or lake glob matches), the metadata is written, and the
 * rename makes the object appear last, with its metadata already there. s3rver's own version also answers
 * before its write stream has finished; this one answers once the file is complete.
 *
 * A partial file that a kill leaves behind is never read; it stays in the folder as litter.
 */
class AtomicFilesystemStore extends FilesystemStore {
  override async putObject(object: StoredObject): Promise<{ size: number; md5: string }> {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const partial = `${objectPath}.partial-${randomBytes(6).toString('hex')}`;
    const hash = createHash('md5');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const body = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      await pipeline(body, counted, createWriteStream(partial));
      const md5 = hash.digest('hex');
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      await rename(partial, objectPath);
      return { size, md5 };
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }
}

/** An s3rver whose objects are stored atomically (AtomicFilesystemStore) in `options.directory`. */
export function createS3rver(options: S3rverOptions & { directory: string }): S3rver {
  const server = new S3rver(options);
  const store = new AtomicFilesystemStore(options.directory);
  server.store = store;
  server.context.store = store;
  return server;
}
