/**
 * The S3 stand-in stores an object as S3 does: whole or not at all. A PUT cut off mid-body (the writer
 * killed) leaves nothing that a listing, a GET or the local lake's folder glob can see.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type S3rver from 's3rver';
import { createS3Client } from '../../src/adapters/s3.js';
import { createS3rver } from '../../src/local/s3rver.js';
import { eventually } from '../helpers/stack-process.js';

const BUCKET = 'lake';
let dir: string;
let server: S3rver;
let port: number;
let s3: ReturnType<typeof createS3Client>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-s3rver-test-'));
  server = createS3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  ({ port } = await server.run());
  s3 = createS3Client({ region: 'us-east-1', endpoints: { s3: `http://127.0.0.1:${port}` } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterEach(async () => {
  s3.destroy();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every file under the bucket's folder, relative to it. */
async function files(): Promise<string[]> {
  return (await readdir(join(dir, BUCKET), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(join(dir, BUCKET).length + 1))
    .sort();
}

/** Sends the head and the first half of a PUT of `bytes` bytes, then drops the connection. */
async function cutPut(key: string, bytes: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    `PUT /${BUCKET}/${key} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bytes}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(bytes / 2, 7));
  // Let the server start writing what it has before the writer disappears.
  await new Promise((resolve) => setTimeout(resolve, 200));
  socket.destroy();
}

describe('the S3 stand-in (s3rver with an atomic store)', () => {
  it('stores a PUT whole: GET returns its bytes, the listing shows it, and no partial file is left', async () => {
    // Prepare
    const body = Buffer.alloc(300_000, 3);

    // Act
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/b.parquet', Body: body }));

    // Assess
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/b.parquet' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([['a/b.parquet', body.length]]);
    expect((await files()).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('shows nothing of a PUT cut off mid-body: no listing, a 404, and no object file for the lake to read', async () => {
    // Act
    await cutPut('year=2011/x.parquet', 400_000);

    // Assess: the server has given up on the request (the partial is removed when the body fails).
    await eventually('the cut PUT leaves no partial file', async () =>
      (await files()).some((f) => f.includes('.partial-')) ? undefined : true,
    );
    expect((await files()).filter((f) => f.endsWith('._S3rver_object'))).toEqual([]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.KeyCount).toBe(0);
    await expect(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'year=2011/x.parquet' })),
    ).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
  });
});
