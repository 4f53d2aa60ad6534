import { versionAt } from '../../core/changes.js';
import type { Encoding } from '../../core/decode.js';
import type { CleanReport } from '../../core/line-cleaner.js';
import type { ByteRange } from './ranges.js';

/**
 * The records a load keeps in the raw bucket under `loads/<sourceId>/`, and their keys. The state machine
 * passes only ids between steps; everything else is here, so any step can be retried on its own and
 * `ecomflow load --target aws` can follow a load by reading `status.json`.
 *
 *   loads/<sourceId>/status.json        phase, report, where the data went (written by plan, load, fail)
 *   loads/<sourceId>/plan.json          how the object is split (written once by plan)
 *   loads/<sourceId>/ranges/NNNN.json   one per cleaned range: its report and parts (its presence = done)
 *   loads/<sourceId>/progress/NNNN.json rows and bytes so far of a range being cleaned
 *   loads/<sourceId>/copy.manifest      the parts Redshift COPYs, and only those
 */

export const LOADS_PREFIX = 'loads/';

/** A range index as it appears in keys: 4 digits, so that keys sort in range order. */
export function rangeName(index: number): string {
  return String(index).padStart(4, '0');
}

/** The keys of one load's records. */
export function loadKeys(sourceId: string) {
  const base = `${LOADS_PREFIX}${sourceId}/`;
  return {
    base,
    status: `${base}status.json`,
    plan: `${base}plan.json`,
    ranges: `${base}ranges/`,
    range: (index: number) => `${base}ranges/${rangeName(index)}.json`,
    progress: `${base}progress/`,
    rangeProgress: (index: number) => `${base}progress/${rangeName(index)}.json`,
    manifest: `${base}copy.manifest`,
  };
}

/** The phases of a load, in order; `failed` can follow any of them. */
export const LOAD_PHASES = {
  cleaning: 'cleaning',
  loading: 'loading',
  done: 'done',
  failed: 'failed',
} as const;
export type LoadPhase = (typeof LOAD_PHASES)[keyof typeof LOAD_PHASES];

/** How an object is cleaned. */
export const LOAD_MODES = {
  /** Small enough for one invocation: one range, the whole object. */
  single: 'single',
  /** Uncompressed and large: byte ranges on record boundaries, cleaned in parallel. */
  split: 'split',
  /** gzip cannot be entered mid-stream: one range, decompressed sequentially. */
  gzip: 'gzip',
} as const;
export type LoadMode = (typeof LOAD_MODES)[keyof typeof LOAD_MODES];

/** The uploaded object a load reads, pinned by its ETag. */
export interface SourceObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

export interface LoadPlan {
  sourceId: string;
  source: SourceObject;
  mode: LoadMode;
  /** Why this mode, in words (shown by `ecomflow load --target aws`). */
  reason: string;
  /** The encoding every range decodes with: decided once for the whole object when it is split. */
  encoding: Encoding;
  /** The header record's bytes, put before every range but the first; null when not split. */
  header: { base64: string; lines: number } | null;
  rangeBytes: number;
  ranges: ByteRange[];
  /**
   * When the plan was made (ISO 8601). Its day names the quarantine folder of every range, so a range
   * retried on a later day overwrites its own objects. Plans written before it existed have none.
   */
  plannedAt?: string;
}

/** The quarantine day of a load: its plan's day (the day of the last update for plans without one). */
export function loadQuarantineDay(plan: Pick<LoadPlan, 'plannedAt'>, fallback: string): string {
  return (plan.plannedAt ?? fallback).slice(0, 10);
}

/**
 * The version of a load's lines (src/core/changes.ts): from when it was planned, so every range and retry
 * writes the same one. Null for plans written before versions, whose lines are stored as adds.
 */
export function loadVersion(plan: Pick<LoadPlan, 'plannedAt'>): number | null {
  return plan.plannedAt === undefined ? null : versionAt(Date.parse(plan.plannedAt));
}

/** One part written to the lake. */
export interface PartRecord {
  key: string;
  bytes: number;
  rows: number;
}

export interface RangeResult {
  index: number;
  start: number;
  end: number;
  report: CleanReport;
  /** What the decoder settled on (`undecided` for pure ASCII). */
  encoding: string;
  parts: PartRecord[];
  quarantine: { keys: string[]; rows: number };
  seconds: number;
}

export interface RangeProgress {
  index: number;
  bytesRead: number;
  rows: number;
}

export interface LoadStatus {
  sourceId: string;
  source: SourceObject;
  phase: LoadPhase;
  mode: LoadMode | null;
  /** Number of ranges (parallel invocations). */
  ranges: number;
  /** The same counts as `ecomflow clean`; see docs/scaling.md for `duplicates` when split. */
  report: CleanReport | null;
  lake: { bucket: string; parts: number; rows: number; bytes: number } | null;
  /**
   * `copied` lines reached the load table; `inserted` were new in raw.invoice_lines. The difference is
   * lines the warehouse already held plus exact duplicates that crossed range boundaries.
   */
  warehouse: { target: string; copied: number; inserted: number } | null;
  quarantine: { bucket: string; prefix: string; rows: number } | null;
  error: { name: string; message: string } | null;
  startedAt: string;
  updatedAt: string;
}
