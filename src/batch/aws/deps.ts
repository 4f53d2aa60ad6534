import type { S3Client } from '@aws-sdk/client-s3';
import { createRedshiftDataClient } from '../../adapters/redshift-data.js';
import { createS3Client } from '../../adapters/s3.js';
import { BATCH_LIMIT_DEFAULTS_MB, type BatchConfig } from '../../config/batch.js';
import type { Log } from '../../log.js';
import { type RedshiftLoader, redshiftLoader } from './redshift-load.js';

/** What the batch steps need; the handler builds it from `BatchConfig`, tests from the emulators. */
export interface BatchDeps {
  s3: S3Client;
  /** The raw bucket: uploads under incoming/, the load records under loads/. */
  rawBucket: string;
  lake: { bucket: string; prefix: string };
  quarantine: { bucket: string; prefix: string };
  warehouse: RedshiftLoader;
  limits: BatchLimits;
  /** For timestamps in the status; tests fix it. */
  now?: () => Date;
  /** The Lambda's structured logger; tests leave it out. */
  log?: Log;
}

/** Sizes that decide how an upload is cleaned; see docs/scaling.md for how the defaults were chosen. */
export interface BatchLimits {
  /** Target size of a byte range: one parallel invocation cleans about this much. */
  rangeBytes: number;
  /** The largest uncompressed object cleaned in one invocation when it cannot be split. */
  singlePassMaxBytes: number;
  /** The largest gzip object (compressed bytes) cleaned in one invocation. */
  gzipMaxBytes: number;
  /** How often a range writes its progress record. */
  progressIntervalMs: number;
  /** Rows per lake part. */
  partRows?: number;
}

export const DEFAULT_LIMITS: BatchLimits = {
  rangeBytes: BATCH_LIMIT_DEFAULTS_MB.range << 20,
  singlePassMaxBytes: BATCH_LIMIT_DEFAULTS_MB.singlePassMax << 20,
  gzipMaxBytes: BATCH_LIMIT_DEFAULTS_MB.gzipMax << 20,
  progressIntervalMs: 5_000,
};

export function timestamp(deps: Pick<BatchDeps, 'now'>): string {
  return (deps.now?.() ?? new Date()).toISOString();
}

/**
 * The deployed function's dependencies: SDK clients made once per container, Redshift through the Data API.
 * @example createBatchDeps(loadBatchConfig())
 */
export function createBatchDeps(config: BatchConfig, log: Log): BatchDeps {
  const redshift = createRedshiftDataClient({ region: config.aws.region });
  return {
    s3: createS3Client(config.aws),
    rawBucket: config.rawBucket,
    lake: config.lake,
    quarantine: config.quarantine,
    // The load step's Lambda waits for the COPY and the merge; 14 minutes leaves it time to record them.
    warehouse: redshiftLoader(redshift, config.redshift.target, config.redshift.copyRoleArn, {
      timeoutMs: 840_000,
    }),
    limits: { ...DEFAULT_LIMITS, ...config.limits },
    log,
  };
}
