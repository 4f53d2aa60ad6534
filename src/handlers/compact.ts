import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { s3LakeStore } from '../adapters/lake-store.js';
import { createS3Client } from '../adapters/s3.js';
import { type CompactConfig, loadCompactConfig } from '../config/compact.js';
import { once } from '../config/env.js';
import { type CompactReport, compactLake } from '../lake/compact.js';
import { logger } from './logger.js';

export interface CompactDeps {
  config: CompactConfig;
  s3: S3Client;
}

/** A scheduled run stops starting days with this much time left; the next run finishes the rest. */
export const COMPACT_TIME_RESERVE_MS = 120_000;

/** The event: EventBridge's schedule (every day), or `{ "day": "YYYY-MM-DD" }` to compact one day. */
export interface CompactEvent {
  day?: string;
}

/**
 * The scheduled lake compaction (EventBridge): every day partition's small objects into one generation.
 * A failure throws, so the invocation counts in the function's Errors metric and is retried.
 */
export function createCompactHandler(getDeps: () => CompactDeps) {
  return async (event?: CompactEvent, context?: Context): Promise<Omit<CompactReport, 'partitions'>> => {
    if (context) logger.addContext(context);
    const { config, s3 } = getDeps();
    const day =
      typeof event?.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(event.day) ? event.day : undefined;
    const report = await compactLake(
      s3LakeStore(s3, config.lake.bucket, config.lake.prefix, config.lakeYears),
      {
        prefix: config.lake.prefix,
        day,
        minAgeMs: config.minAgeMs,
        targetBytes: config.targetBytes,
        keepGoing: context ? () => context.getRemainingTimeInMillis() > COMPACT_TIME_RESERVE_MS : undefined,
      },
    );
    const { partitions, ...summary } = report;
    logger.info('lake compacted', { ...summary, days: partitions.length });
    return summary;
  };
}

/** Configuration and the client are made on the first invocation and kept for the container's life. */
export const handler = createCompactHandler(
  once(() => {
    const config = loadCompactConfig(process.env);
    return { config, s3: createS3Client(config.aws) };
  }),
);
