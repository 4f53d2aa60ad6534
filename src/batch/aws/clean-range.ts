import { readJson, readRange, writeJson, writeObject } from '../../adapters/s3-objects.js';
import { storedAs } from '../../core/changes.js';
import type { Rejection } from '../../core/clean.js';
import { quarantineNamePrefix } from '../../core/quarantine.js';
import { CHANGE_KINDS } from '../../core/schema.js';
import { PartitionedLakeWriter } from '../../lake/lake-writer.js';
import { batchQuarantineLine } from '../quarantine.js';
import { cleanStream } from '../source.js';
import { type BatchDeps, timestamp } from './deps.js';
import { LoadStateError } from './errors.js';
import { relocateRejection } from './ranges.js';
import {
  LOAD_MODES,
  type LoadPlan,
  loadKeys,
  loadQuarantineDay,
  loadVersion,
  type PartRecord,
  type RangeProgress,
  type RangeResult,
  rangeName,
} from './records.js';

export interface CleanRangeInput {
  sourceId: string;
  index: number;
}

export interface CleanRangeOutput {
  index: number;
  rowsRead: number;
  /** The range had been cleaned before (a retried or repeated load): nothing was read or written. */
  skipped: boolean;
}

/** Quarantine objects are cut at this size, so a range full of bad rows never holds more in memory. */
const QUARANTINE_OBJECT_BYTES = 16 << 20;

/**
 * Step 2 of a load, one invocation per range (in parallel): reads the range's bytes from S3, cleans them
 * with the same core as every other path, writes Parquet parts to the lake and rejected rows to the
 * quarantine, then records the range's result. Every name written is deterministic (source id, range,
 * partition, part number), so a retry overwrites the same objects; a range with a result is skipped.
 *
 * Ranges after the first are cleaned as `header + range`: the header resolves the columns exactly as in a
 * single pass, and quarantine line numbers are mapped back to the line in the whole file.
 *
 * @throws LoadStateError when the plan is missing; InputError / HeaderError / EncodingError from cleaning
 */
export async function cleanRange(deps: BatchDeps, input: CleanRangeInput): Promise<CleanRangeOutput> {
  const keys = loadKeys(input.sourceId);
  const plan = await readJson<LoadPlan>(deps.s3, deps.rawBucket, keys.plan);
  const range = plan?.ranges[input.index];
  if (!plan || !range) {
    throw new LoadStateError(
      input.sourceId,
      `load ${input.sourceId}: ${plan ? `no range ${input.index} in its plan` : 'no plan'} (s3://${deps.rawBucket}/${keys.plan})`,
    );
  }
  const done = await readJson<RangeResult>(deps.s3, deps.rawBucket, keys.range(range.index));
  if (done) return { index: range.index, rowsRead: done.report.rows_read, skipped: true };

  const started = performance.now();
  const { source } = plan;
  const version = loadVersion(plan);
  const url = `s3://${source.bucket}/${source.key}`;
  const body = await readRange(deps.s3, source.bucket, source.key, {
    start: range.start,
    end: range.end,
    etag: source.etag,
  });
  const header = plan.header && range.index > 0 ? Buffer.from(plan.header.base64, 'base64') : null;
  const headerLines = plan.header?.lines ?? 0;

  const parts: PartRecord[] = [];
  const lake = new PartitionedLakeWriter(
    {
      put: async (key, bytes, rows) => {
        await writeObject(deps.s3, deps.lake.bucket, key, bytes, 'application/vnd.apache.parquet');
        parts.push({ key, bytes: bytes.byteLength, rows });
      },
    },
    {
      prefix: deps.lake.prefix,
      // One range keeps the local load's names (batch-<sourceId>-NNNN); split ranges add their index.
      sourceId:
        plan.mode === LOAD_MODES.split ? `${input.sourceId}-r${rangeName(range.index)}` : input.sourceId,
      ...(deps.limits.partRows ? { partRows: deps.limits.partRows } : {}),
    },
  );
  const quarantine = new QuarantineSpool(
    deps,
    // `quarantine/batch/date=<plan day>/<sourceId>-range-NNNN`, each object `...-NNNN.ndjson`: the layout
    // of the quarantine table (quarantineKey), one folder per day.
    `${deps.quarantine.prefix}${quarantineNamePrefix('batch', loadQuarantineDay(plan, timestamp(deps)), `${input.sourceId}-range-${rangeName(range.index)}`)}`,
    url,
  );

  let rowsRead = 0;
  let bytesRead = 0;
  let lastProgress = performance.now();
  const writeProgress = async () => {
    lastProgress = performance.now();
    const progress: RangeProgress = { index: range.index, bytesRead, rows: rowsRead };
    await writeJson(deps.s3, deps.rawBucket, keys.rangeProgress(range.index), progress);
  };
  let result: Awaited<ReturnType<typeof cleanStream>>;
  try {
    result = await cleanStream(
      header ? prefixed(header, body) : body,
      {
        line: (line) => {
          rowsRead++;
          // A batch file is the whole of each invoice it holds: its lines replace what the stores had.
          lake.append(version === null ? line : storedAs(line, version, CHANGE_KINDS.replace));
        },
        duplicate: () => {
          rowsRead++;
        },
        reject: (rejection) => {
          rowsRead++;
          quarantine.add(relocateRejection(rejection, range, headerLines));
        },
      },
      {
        name: url,
        encoding: plan.encoding,
        dedupe: true,
        gzip: plan.mode === LOAD_MODES.gzip,
        onBytes: (n) => {
          bytesRead = Math.max(0, n - (header?.length ?? 0));
        },
        afterChunk: async () => {
          await lake.drain();
          await quarantine.drain();
          if (performance.now() - lastProgress >= deps.limits.progressIntervalMs) await writeProgress();
        },
      },
    );
    await lake.finish();
    await quarantine.finish();
    await writeProgress();
  } finally {
    body.destroy();
  }

  // Uploads finish in any order; the record lists parts by name, so that it is the same on every run.
  parts.sort((a, b) => a.key.localeCompare(b.key));
  const record: RangeResult = {
    index: range.index,
    start: range.start,
    end: range.end,
    report: result.report,
    encoding: result.encoding,
    parts,
    quarantine: { keys: quarantine.keys, rows: quarantine.rows },
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
  // Written last: its presence says the parts and the quarantine of this range are complete.
  await writeJson(deps.s3, deps.rawBucket, keys.range(range.index), record);
  deps.log?.info('range cleaned', {
    sourceId: input.sourceId,
    index: range.index,
    rowsRead: result.report.rows_read,
    parts: parts.length,
    seconds: record.seconds,
  });
  return { index: range.index, rowsRead: result.report.rows_read, skipped: false };
}

async function* prefixed(head: Uint8Array, rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield head;
  yield* rest;
}

/** Quarantined rows as NDJSON objects under a range's prefix, cut every 16 MiB: `<prefix>-NNNN.ndjson`. */
class QuarantineSpool {
  readonly keys: string[] = [];
  rows = 0;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: BatchDeps,
    private readonly prefix: string,
    private readonly source: string,
  ) {}

  add(rejection: Rejection): void {
    const text = batchQuarantineLine(rejection, this.source, this.deps.now?.() ?? new Date());
    this.buffer.push(text);
    this.bufferedBytes += text.length;
    this.rows++;
    if (this.bufferedBytes >= QUARANTINE_OBJECT_BYTES) this.flush();
  }

  /** Waits for the object being written: at most one is in flight. */
  async drain(): Promise<void> {
    await this.writing;
  }

  async finish(): Promise<void> {
    this.flush();
    await this.writing;
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    const body = this.buffer.join('');
    this.buffer = [];
    this.bufferedBytes = 0;
    const key = `${this.prefix}-${rangeName(this.keys.length)}.ndjson`;
    this.keys.push(key);
    this.writing = this.writing.then(() =>
      writeObject(this.deps.s3, this.deps.quarantine.bucket, key, body, 'application/x-ndjson'),
    );
    // The failure is thrown by the next drain() or finish(); this only keeps Node from seeing it unhandled
    // in between.
    this.writing.catch(() => undefined);
  }
}
