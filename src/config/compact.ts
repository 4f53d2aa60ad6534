import { type AwsConfig, awsConfig, ENV } from './aws.js';
import { type Env, mebibytes, read, requireVars, wholeNumber } from './env.js';
import { parseLakeYears } from './transform.js';

/** Defaults, one home: the CLI, the local stack and the Lambda read them from here. */
export const COMPACTION_DEFAULTS = {
  /** One output object per this many input bytes (the "one file, or one per 128 MiB"). */
  targetBytes: 128 * 1024 * 1024,
  /**
   * Firehose's objects younger than this are not touched. On AWS the lake stream buffers for 60 s; five
   * minutes leaves a day that is being written to settle, so it is not rewritten on every run.
   */
  minAgeMs: 5 * 60_000,
} as const;

/** The compaction function's configuration (resources/functions/compact.yml sets it). */
export interface CompactConfig {
  aws: AwsConfig;
  lake: { bucket: string; prefix: string };
  /** The years partition projection covers: the days compaction lists. */
  lakeYears: { first: number; last: number };
  minAgeMs: number;
  targetBytes: number;
}

/**
 * @throws ConfigError naming the missing or malformed variables
 * @example loadCompactConfig({ LAKE_BUCKET: 'lake', LAKE_PREFIX: 'lake/invoice_lines/' })
 */
export function loadCompactConfig(env: Env): CompactConfig {
  const v = requireVars(env, [ENV.LAKE_BUCKET, ENV.LAKE_PREFIX], 'compact');
  const prefix = v.LAKE_PREFIX.replace(/^\/+/, '');
  return {
    aws: awsConfig(env),
    lake: { bucket: v.LAKE_BUCKET, prefix: prefix.endsWith('/') ? prefix : `${prefix}/` },
    lakeYears: parseLakeYears(read(env, ENV.LAKE_PROJECTION_YEARS)),
    minAgeMs:
      wholeNumber(env, ENV.COMPACT_MIN_AGE_SECONDS, COMPACTION_DEFAULTS.minAgeMs / 1000, 0, 86_400) * 1000,
    targetBytes: mebibytes(env, ENV.COMPACT_TARGET_MB, COMPACTION_DEFAULTS.targetBytes / (1 << 20)),
  };
}
