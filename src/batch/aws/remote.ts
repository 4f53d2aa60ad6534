import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys, readJson } from '../../adapters/s3-objects.js';
import { uploadStream } from '../../adapters/s3-upload.js';
import type { Encoding } from '../../core/decode.js';
import { InputError } from '../errors.js';
import { fileId } from '../load.js';
import { RemoteLoadError } from './errors.js';
import { ENCODING_METADATA, SOURCE_ID_METADATA } from './plan.js';
import { LOAD_PHASES, type LoadStatus, loadKeys, type RangeProgress } from './records.js';

/**
 * `ecomflow load <file> --target aws`: uploads the file to the raw bucket's `incoming/`, where the batch
 * state machine picks it up, then follows the load's `status.json` until it is done or failed. The upload
 * carries the file's local source id, so its parts are named as a local load names them, and a file
 * already loaded is not uploaded again.
 */

export const INCOMING_PREFIX = 'incoming/';

/** Polls in a row that may fail (network) before following gives up. */
const MAX_POLL_FAILURES = 5;

export interface RemoteLoadOptions {
  s3: S3Client;
  /** The raw bucket (the stack's output `RawBucketName`). */
  bucket: string;
  encoding?: Encoding;
  /** Upload part size; S3's minimum is 5 MiB. */
  partBytes?: number;
  /** Time between two reads of the status. */
  pollMs?: number;
  /** Give up waiting for the status to appear after the upload (the trigger is not there?). */
  appearTimeoutMs?: number;
  /** Give up following the load after this long (it goes on in AWS). */
  timeoutMs?: number;
  onProgress?: (progress: RemoteProgress) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** What the progress display shows. */
export interface RemoteProgress {
  phase: 'uploading' | 'waiting' | LoadStatus['phase'];
  /** Bytes uploaded, or bytes of the upload cleaned so far. */
  bytesDone: number;
  bytesTotal: number;
  rows: number;
  rangesDone: number;
  ranges: number;
}

export interface RemoteLoadResult {
  sourceId: string;
  key: string;
  status: LoadStatus;
  /** The file had been loaded before: nothing was uploaded. */
  alreadyLoaded: boolean;
}

/**
 * Uploads `path` (multipart when large) and follows its load to the end.
 * @throws InputError when the file cannot be read; RemoteLoadError when the load fails or cannot be followed
 */
export async function loadRemotely(path: string, options: RemoteLoadOptions): Promise<RemoteLoadResult> {
  const size = await stat(path).then(
    (s) => s.size,
    (cause: Error) => {
      throw new InputError(path, `cannot read ${path}: ${cause.message}`, { cause });
    },
  );
  const sourceId = await fileId(path);
  const key = `${INCOMING_PREFIX}${basename(path)}`;
  const previous = await readJson<LoadStatus>(options.s3, options.bucket, loadKeys(sourceId).status);
  if (previous?.phase === LOAD_PHASES.done) return { sourceId, key, status: previous, alreadyLoaded: true };

  const progress = (p: Partial<RemoteProgress> & Pick<RemoteProgress, 'phase'>) =>
    options.onProgress?.({ bytesDone: 0, bytesTotal: size, rows: 0, rangesDone: 0, ranges: 0, ...p });
  progress({ phase: 'uploading' });
  await uploadStream(
    options.s3,
    {
      bucket: options.bucket,
      key,
      contentType: 'text/csv',
      metadata: {
        [SOURCE_ID_METADATA]: sourceId,
        ...(options.encoding && options.encoding !== 'auto' ? { [ENCODING_METADATA]: options.encoding } : {}),
      },
    },
    createReadStream(path),
    {
      ...(options.partBytes ? { partBytes: options.partBytes } : {}),
      onProgress: (bytes) => progress({ phase: 'uploading', bytesDone: bytes }),
    },
  );
  const status = await followLoad(options.s3, options.bucket, sourceId, {
    ...options,
    startedAfter: previous,
  });
  return { sourceId, key, status, alreadyLoaded: false };
}

/**
 * Reads the load's status until it is `done` (returned) or `failed` (thrown), reporting progress from the
 * ranges' records on the way. A status left from an earlier attempt (`startedAfter`) is not mistaken
 * for this one: the new load must have been updated since.
 *
 * @throws RemoteLoadError when the load failed, or no status appeared, or it did not end in time
 */
export async function followLoad(
  s3: S3Client,
  bucket: string,
  sourceId: string,
  options: Omit<RemoteLoadOptions, 's3' | 'bucket'> & { startedAfter?: LoadStatus | null } = {},
): Promise<LoadStatus> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = options.pollMs ?? 2_000;
  const keys = loadKeys(sourceId);
  const started = Date.now();
  let failures = 0;
  for (;;) {
    let status: LoadStatus | null;
    let progress: RemoteProgress | null = null;
    try {
      status = await readJson<LoadStatus>(s3, bucket, keys.status);
      if (status && status.phase !== LOAD_PHASES.done && status.phase !== LOAD_PHASES.failed) {
        progress = await rangeProgress(s3, bucket, status);
      }
      failures = 0;
    } catch (error) {
      // Following lasts minutes: a dropped connection is tried again at the next poll, a lasting one is not.
      if (++failures >= MAX_POLL_FAILURES) throw error;
      await sleep(pollMs);
      continue;
    }
    const waited = Date.now() - started;
    if (status === null || status.updatedAt === options.startedAfter?.updatedAt) {
      if (waited > (options.appearTimeoutMs ?? 120_000)) {
        throw new RemoteLoadError(
          sourceId,
          `no load started for s3://${bucket}/${INCOMING_PREFIX}… within ${Math.round(waited / 1000)} s: is the stack ` +
            `deployed, and is this its raw bucket? (expected s3://${bucket}/${keys.status})`,
        );
      }
      options.onProgress?.({
        phase: 'waiting',
        bytesDone: 0,
        bytesTotal: 0,
        rows: 0,
        rangesDone: 0,
        ranges: 0,
      });
    } else {
      if (status.phase === LOAD_PHASES.done) return status;
      if (status.phase === LOAD_PHASES.failed) {
        throw new RemoteLoadError(
          sourceId,
          `the load of s3://${status.source.bucket}/${status.source.key} failed: ${status.error?.message ?? 'no reason recorded'}` +
            ` (${status.error?.name ?? 'Error'}; s3://${bucket}/${keys.status})`,
        );
      }
      if (progress) options.onProgress?.(progress);
    }
    if (waited > (options.timeoutMs ?? 3_600_000)) {
      throw new RemoteLoadError(
        sourceId,
        `stopped following load ${sourceId} after ${Math.round(waited / 1000)} s; it goes on in AWS: s3://${bucket}/${keys.status}`,
      );
    }
    await sleep(pollMs);
  }
}

/** Ranges finished, and rows and bytes of the ranges under way, from the load's records. */
async function rangeProgress(s3: S3Client, bucket: string, status: LoadStatus): Promise<RemoteProgress> {
  const keys = loadKeys(status.sourceId);
  const [done, running] = await Promise.all([
    listKeys(s3, bucket, keys.ranges),
    listKeys(s3, bucket, keys.progress),
  ]);
  let rows = 0;
  let bytesDone = 0;
  for (const key of running) {
    const p = await readJson<RangeProgress>(s3, bucket, key);
    if (p) {
      rows += p.rows;
      bytesDone += p.bytesRead;
    }
  }
  const finished = status.phase === LOAD_PHASES.loading;
  return {
    phase: status.phase,
    bytesDone: finished ? status.source.size : Math.min(bytesDone, status.source.size),
    bytesTotal: status.source.size,
    rows: finished ? (status.report?.rows_read ?? rows) : rows,
    rangesDone: finished ? status.ranges : done.length,
    ranges: status.ranges,
  };
}
