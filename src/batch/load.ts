import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWrite, type TableNames } from '../adapters/dynamodb.js';
import { type CopyWriter, type PgWarehouse, RAW_SCHEMA } from '../adapters/pg-warehouse.js';
import { storedAs, versionAt } from '../core/changes.js';
import type { Encoding } from '../core/decode.js';
import { type ItemWrite, itemsForLine } from '../core/dynamo-items.js';
import type { CleanReport } from '../core/line-cleaner.js';
import { CHANGE_KINDS, type CleanLine } from '../core/schema.js';
import { readJsonState, writeAtomically } from '../files.js';
import { PartitionedLakeWriter, type PartStore } from '../lake/lake-writer.js';
import { TaskPool } from '../task-pool.js';
import { InputError } from './errors.js';
import { cleanFile } from './source.js';

export interface LoadTargets {
  /** The lake bucket, as a part store. */
  lake: PartStore;
  lakePrefix: string;
  warehouse: PgWarehouse;
  /** With `--dynamodb`: the look-up tables. */
  dynamodb?: { doc: DynamoDBDocumentClient; tables: TableNames; concurrency?: number };
}

export interface LoadOptions {
  /** Where load manifests are kept (the stack's state folder). */
  manifestDir: string;
  encoding?: Encoding;
  onProgress?: (bytesRead: number, totalBytes: number, rows: number) => void;
}

/** What a load did, and what `ecomflow load` prints. */
export interface LoadResult {
  source: string;
  sourceId: string;
  report: CleanReport;
  lake: { parts: number; skipped: number; rows: number };
  warehouse: { copied: number; inserted: number } | 'already loaded';
  dynamodb: { writes: number } | 'already loaded' | 'not requested';
  /** True when every requested target was already complete: nothing was read or written. */
  alreadyLoaded: boolean;
}

/** The load's progress on disk: what a re-run after an interruption needs to finish without doubling. */
interface Manifest {
  source: string;
  sourceId: string;
  /** Lake parts stored, by key. */
  parts: string[];
  lakeDone: boolean;
  warehouseDone: boolean;
  dynamodbDone: boolean;
  report: CleanReport | null;
  result: Omit<LoadResult, 'alreadyLoaded'> | null;
  /**
   * The load's version (src/core/changes.ts), from when it started: its lines replace the invoices they
   * belong to. Kept here so a resumed load writes the same version. Absent in manifests written before.
   */
  version?: number;
}

/** Rows per DynamoDB batch handed to `batchWrite` (which splits them into requests of 25). */
const DYNAMO_CHUNK_LINES = 1_000;

/**
 * Loads a CSV file into the lake and the warehouse (and with `dynamodb`, the look-up tables), in one pass
 * through the cleaning core:
 * - the lake gets Parquet parts with deterministic names, under `year=/month=/day=` of invoice date;
 * - the warehouse gets a COPY into a load table, then one transaction inserts into `raw.invoice_lines` the
 *   line ids it does not hold yet (never a row-by-row INSERT);
 * - DynamoDB gets idempotent puts keyed by line_id.
 *
 * Idempotent and resumable: a manifest per source file (by content hash) records the parts stored and the
 * targets finished. Running it again skips what is done; a part is named the same on every run, and the
 * warehouse merge skips ids already present, so an interrupted load finishes without doubling anything.
 */
export async function loadFile(
  path: string,
  targets: LoadTargets,
  options: LoadOptions,
): Promise<LoadResult> {
  const sourceId = await fileId(path);
  await mkdir(options.manifestDir, { recursive: true });
  const manifestPath = join(options.manifestDir, `${sourceId}.json`);
  const manifest = await readManifest(manifestPath, path, sourceId);
  const wantDynamo = targets.dynamodb !== undefined;
  if (
    manifest.result &&
    manifest.lakeDone &&
    manifest.warehouseDone &&
    (!wantDynamo || manifest.dynamodbDone)
  ) {
    return { ...manifest.result, source: path, alreadyLoaded: true };
  }

  manifest.version ??= versionAt(Date.now());
  const version = manifest.version;
  const stored = new Set(manifest.parts);
  let saving = Promise.resolve();
  const save = () => {
    const snapshot = JSON.stringify(manifest, null, 2);
    saving = saving.then(() => writeAtomically(manifestPath, snapshot));
    return saving;
  };
  const lake = new PartitionedLakeWriter(
    {
      has: (key) => stored.has(key),
      put: async (key, body, rows) => {
        await targets.lake.put(key, body, rows);
        manifest.parts.push(key);
        void save();
      },
    },
    { prefix: targets.lakePrefix, sourceId },
  );
  const loadTable = `${RAW_SCHEMA}.load_${sourceId}`;
  let copy: CopyWriter | null = null;
  if (!manifest.warehouseDone) {
    await targets.warehouse.createLoadTable(loadTable);
    copy = await targets.warehouse.startCopy(loadTable);
  }
  const dynamo = wantDynamo && !manifest.dynamodbDone ? new DynamoFill(targets.dynamodb!) : null;

  let rows = 0;
  let report: CleanReport;
  try {
    report = await cleanFile(
      path,
      {
        line: (line) => {
          rows++;
          // A batch file is the whole of each invoice it holds: its lines replace what the stores had.
          const replacing = storedAs(line, version, CHANGE_KINDS.replace);
          if (!manifest.lakeDone) lake.append(replacing);
          copy?.write(replacing);
          dynamo?.push(line);
        },
        reject: () => {},
      },
      {
        encoding: options.encoding,
        dedupe: true,
        onProgress: (done, total) => options.onProgress?.(done, total, rows),
        afterChunk: async () => {
          await lake.drain();
          await copy?.drain();
          await dynamo?.drain();
        },
      },
    );
    await lake.finish();
    manifest.lakeDone = true;
    await save();
  } catch (err) {
    copy?.abort();
    await saving;
    throw err;
  }

  let warehouse: LoadResult['warehouse'] = 'already loaded';
  if (copy) {
    const copied = await copy.end();
    const inserted = await targets.warehouse.mergeLoadTable(loadTable);
    warehouse = { copied, inserted };
    manifest.warehouseDone = true;
    await save();
  }
  let dynamodb: LoadResult['dynamodb'] = wantDynamo ? 'already loaded' : 'not requested';
  if (dynamo) {
    dynamodb = { writes: await dynamo.finish() };
    manifest.dynamodbDone = true;
  }
  // A run that only finished other targets keeps the lake figures of the run that wrote the lake.
  const lakeFigures =
    lake.written.parts + lake.written.skipped === 0 && manifest.result
      ? manifest.result.lake
      : { ...lake.written };
  const result = { source: path, sourceId, report, lake: lakeFigures, warehouse, dynamodb };
  manifest.report = report;
  manifest.result = result;
  await save();
  return { ...result, alreadyLoaded: false };
}

/** Puts each line's items with BatchWriteItem, several requests in flight, so the emulator sets the pace. */
class DynamoFill {
  private pending: ItemWrite[] = [];
  private lines = 0;
  /** Full chunks waiting for a request slot; `drain()` and `finish()` send them. */
  private readonly ready: ItemWrite[][] = [];
  private readonly requests: TaskPool;
  writes = 0;

  constructor(private readonly target: NonNullable<LoadTargets['dynamodb']>) {
    this.requests = new TaskPool(target.concurrency ?? 4);
  }

  push(line: CleanLine): void {
    for (const write of itemsForLine(line)) this.pending.push(write);
    if (++this.lines >= DYNAMO_CHUNK_LINES) this.cut();
  }

  /** Sends the full chunks, waiting while too many requests are under way; rethrows a request's failure. */
  async drain(): Promise<void> {
    await this.send();
    if (this.requests.failed) await this.requests.drain();
  }

  async finish(): Promise<number> {
    this.cut();
    await this.send();
    await this.requests.drain();
    return this.writes;
  }

  private cut(): void {
    const writes = this.pending;
    this.pending = [];
    this.lines = 0;
    if (writes.length > 0) this.ready.push(writes);
  }

  private async send(): Promise<void> {
    while (this.ready.length > 0 && !this.requests.failed) {
      const writes = this.ready.shift()!;
      await this.requests.run(async () => {
        const { written } = await batchWrite(this.target.doc, this.target.tables, writes, { concurrency: 4 });
        this.writes += written;
      });
    }
  }
}

/** The first 16 hex digits of the file's SHA-256: the same file always maps to the same parts and manifest. */
export async function fileId(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
      hash.update(chunk as Buffer);
  } catch (cause) {
    throw new InputError(path, `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The manifest of an earlier run of this file, or a new one.
 * @throws StateFileError when it exists but is empty, torn or not a manifest: it is not taken for "never
 * loaded", so a load is never started over silently
 */
async function readManifest(path: string, source: string, sourceId: string): Promise<Manifest> {
  const found = await readJsonState<Manifest>(
    path,
    'a load manifest',
    manifestProblem,
    'delete it to load the file again from its start (the load is idempotent: nothing is stored twice)',
  );
  return (
    found ?? {
      source,
      sourceId,
      parts: [],
      lakeDone: false,
      warehouseDone: false,
      dynamodbDone: false,
      report: null,
      result: null,
    }
  );
}

function manifestProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `it holds ${JSON.stringify(value)}`;
  const parts = (value as { parts?: unknown }).parts;
  if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string'))
    return 'its parts are not a list of keys';
  return null;
}
