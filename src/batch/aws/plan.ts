import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { headObject, type ObjectHead, readJson, readRange, writeJson } from '../../adapters/s3-objects.js';
import { ENCODINGS, type Encoding, StreamDecoder } from '../../core/decode.js';
import { type BatchDeps, timestamp } from './deps.js';
import { UnloadableObjectError } from './errors.js';
import { RecordBoundaryScanner, wholeRange } from './ranges.js';
import {
  LOAD_MODES,
  LOAD_PHASES,
  type LoadPlan,
  type LoadStatus,
  loadKeys,
  type SourceObject,
} from './records.js';

/** Object metadata `ecomflow load --target aws` sets: the local load's source id, and `--encoding`. */
export const SOURCE_ID_METADATA = 'ecomflow-source-id';
export const ENCODING_METADATA = 'ecomflow-encoding';

export interface PlanInput {
  bucket: string;
  key: string;
}

/** What the state machine gets back: ids only (its payloads are capped at 256 KB). */
export interface PlanOutput {
  sourceId: string;
  /** Range indexes, one per parallel clean invocation; empty when already loaded. */
  ranges: number[];
  alreadyLoaded: boolean;
}

/** Bytes read to look at an object's start (gzip magic bytes, the header). */
const HEAD_BYTES = 64 << 10;

/**
 * The id that names a load's parts, quarantine and records. An upload by `ecomflow load --target aws`
 * carries the local load's id (the file's SHA-256, first 16 hex digits), so a file gets the same part names
 * whichever way it is loaded; any other upload is named by its key, ETag and size.
 * @example sourceIdOf({ bucket: 'raw', key: 'incoming/a.csv', size: 10, etag: '"x"' }, {})
 */
export function sourceIdOf(source: SourceObject, metadata: Record<string, string>): string {
  const given = metadata[SOURCE_ID_METADATA];
  if (given && /^[0-9a-f]{16}$/.test(given)) return given;
  return createHash('sha256')
    .update(`s3://${source.bucket}/${source.key}\n${source.etag}\n${source.size}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * Step 1 of a load: finds the uploaded object, decides how to clean it (one range, or byte ranges on record
 * boundaries cleaned in parallel), and records the plan and a `cleaning` status. A load already `done` is
 * not started again.
 *
 * @throws UnloadableObjectError when the object is gone, or too large to clean in one invocation and not
 *   splittable (gzip, or ambiguous quoting)
 */
export async function planLoad(deps: BatchDeps, input: PlanInput): Promise<PlanOutput> {
  const { key, head } = await findObject(deps, input);
  const source: SourceObject = { bucket: input.bucket, key, size: head.size, etag: head.etag };
  const sourceId = sourceIdOf(source, head.metadata);
  const keys = loadKeys(sourceId);
  const status = await readJson<LoadStatus>(deps.s3, deps.rawBucket, keys.status);
  if (status?.phase === LOAD_PHASES.done) {
    deps.log?.info('already loaded', { sourceId, key });
    return { sourceId, ranges: [], alreadyLoaded: true };
  }

  // A retried or repeated load reuses its plan: scanning a large object again would give the same ranges.
  let plan = await readJson<LoadPlan>(deps.s3, deps.rawBucket, keys.plan);
  if (!plan || plan.source.etag !== source.etag || plan.rangeBytes !== deps.limits.rangeBytes) {
    plan = await makePlan(deps, source, sourceId, head.metadata);
    await writeJson(deps.s3, deps.rawBucket, keys.plan, plan);
  }
  const now = timestamp(deps);
  const next: LoadStatus = {
    sourceId,
    source,
    phase: LOAD_PHASES.cleaning,
    mode: plan.mode,
    ranges: plan.ranges.length,
    report: null,
    lake: null,
    warehouse: null,
    quarantine: null,
    error: null,
    startedAt: status?.startedAt ?? now,
    updatedAt: now,
  };
  await writeJson(deps.s3, deps.rawBucket, keys.status, next);
  deps.log?.info('planned', {
    sourceId,
    key,
    mode: plan.mode,
    ranges: plan.ranges.length,
    reason: plan.reason,
  });
  return { sourceId, ranges: plan.ranges.map((r) => r.index), alreadyLoaded: false };
}

/**
 * HeadObject on the event's key. S3's notification formats URL-encode keys (`+` for a space); the key is
 * tried as given first, then decoded, so both forms work.
 */
export async function findObject(
  deps: Pick<BatchDeps, 's3'>,
  input: PlanInput,
): Promise<{ key: string; head: ObjectHead }> {
  const head = await headObject(deps.s3, input.bucket, input.key);
  if (head) return { key: input.key, head };
  const decoded = safeDecode(input.key);
  if (decoded !== input.key) {
    const again = await headObject(deps.s3, input.bucket, decoded);
    if (again) return { key: decoded, head: again };
  }
  const url = `s3://${input.bucket}/${input.key}`;
  throw new UnloadableObjectError(
    url,
    `${url}: no such object (was it deleted or replaced after the upload?)`,
  );
}

function safeDecode(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

async function makePlan(
  deps: BatchDeps,
  source: SourceObject,
  sourceId: string,
  metadata: Record<string, string>,
): Promise<LoadPlan> {
  const { limits } = deps;
  const url = `s3://${source.bucket}/${source.key}`;
  const given = metadata[ENCODING_METADATA];
  const encoding: Encoding = ENCODINGS.includes(given as Encoding) ? (given as Encoding) : 'auto';
  const start = await readAll(
    await readRange(deps.s3, source.bucket, source.key, {
      start: 0,
      end: Math.min(source.size, HEAD_BYTES),
      etag: source.etag,
    }),
  );
  const base = {
    sourceId,
    source,
    encoding,
    header: null,
    rangeBytes: limits.rangeBytes,
    plannedAt: timestamp(deps),
  };
  const mb = (bytes: number) => `${(bytes / (1 << 20)).toFixed(1)} MiB`;

  if (start[0] === 0x1f && start[1] === 0x8b) {
    if (source.size > limits.gzipMaxBytes) {
      throw new UnloadableObjectError(
        url,
        `${url} is ${mb(source.size)} of gzip: gzip cannot be split, and one invocation cleans at most ` +
          `${mb(limits.gzipMaxBytes)} of it within Lambda's 15 minutes. Upload it uncompressed (it is then ` +
          `split and cleaned in parallel), or as several files (see docs/scaling.md)`,
      );
    }
    return {
      ...base,
      mode: LOAD_MODES.gzip,
      reason: 'gzip: cleaned in one pass',
      ranges: wholeRange(source.size),
    };
  }
  if (source.size <= limits.rangeBytes) {
    return {
      ...base,
      mode: LOAD_MODES.single,
      reason: `${mb(source.size)}: under the range size (${mb(limits.rangeBytes)})`,
      ranges: wholeRange(source.size),
    };
  }

  // Record boundaries can only be known by reading from the start (a quoted field may hold newlines).
  const scanner = new RecordBoundaryScanner({ size: source.size, rangeBytes: limits.rangeBytes });
  const decoder = encoding === 'auto' ? new StreamDecoder('auto') : null;
  const body = await readRange(deps.s3, source.bucket, source.key, {
    start: 0,
    end: source.size,
    etag: source.etag,
  });
  try {
    for await (const chunk of body) {
      scanner.push(chunk as Uint8Array);
      // The encoding is decided once for all ranges, as a single pass would: at the first non-ASCII bytes.
      if (decoder && decoder.encoding === 'undecided') decoder.write(chunk as Uint8Array);
    }
  } finally {
    body.destroy();
  }
  const scan = scanner.end();
  const decided: Encoding =
    decoder === null || decoder.encoding === 'undecided' ? encoding : (decoder.encoding as Encoding);
  if (scan.ambiguous !== null || scan.headerEnd === null || scan.ranges.length === 1) {
    const why = scan.ambiguous ?? (scan.headerEnd === null ? 'no header record' : 'one range');
    if (source.size > limits.singlePassMaxBytes) {
      throw new UnloadableObjectError(
        url,
        `${url} (${mb(source.size)}) cannot be split safely (${why}) and is over the ${mb(limits.singlePassMaxBytes)} ` +
          'one invocation cleans: fix its quoting, or upload it as several files',
      );
    }
    // One pass over the whole object decides its encoding itself, exactly as `ecomflow clean` would.
    return {
      ...base,
      mode: LOAD_MODES.single,
      reason: `not split: ${why}`,
      ranges: wholeRange(source.size),
    };
  }
  const header =
    scan.headerEnd <= start.length
      ? start.subarray(0, scan.headerEnd)
      : await readAll(
          await readRange(deps.s3, source.bucket, source.key, {
            start: 0,
            end: scan.headerEnd,
            etag: source.etag,
          }),
        );
  return {
    ...base,
    encoding: decided,
    mode: LOAD_MODES.split,
    reason: `${mb(source.size)} in ${scan.ranges.length} ranges of about ${mb(limits.rangeBytes)}`,
    header: { base64: Buffer.from(header).toString('base64'), lines: scan.headerLines },
    ranges: scan.ranges,
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
