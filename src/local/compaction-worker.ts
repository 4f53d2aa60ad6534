/**
 * Worker thread side of the stack's lake compaction: the timer and the runs it starts. A run reads and
 * rewrites the day partitions' Parquet in JavaScript; on the stack's main thread a run over a big lake held
 * the gateway, `/health` with it, for seconds. Ready with `{}` once the timer is set; on 'stop' it waits for
 * the run under way (src/local/part-worker.ts).
 */
import { workerData } from 'node:worker_threads';
import { s3LakeStore } from '../adapters/lake-store.js';
import { createS3Client } from '../adapters/s3.js';
import type { AwsConfig } from '../config/aws.js';
import { LOCAL_RESOURCES } from '../config/local.js';
import { compactLake, type LakeStore } from '../lake/compact.js';
import { servePart } from './part-worker.js';

export interface CompactionWorkerData {
  aws: AwsConfig;
  bucket: string;
  prefix: string;
  lakeYears: { first: number; last: number };
  /** How often a run starts. */
  intervalMs: number;
  /** Lake objects younger than this are left to a later run. */
  minAgeMs: number;
}

const data = workerData as CompactionWorkerData;

servePart<Record<string, never>>(async (log) => {
  const s3 = createS3Client(data.aws);
  const timer = startCompactionTimer(s3LakeStore(s3, data.bucket, data.prefix, data.lakeYears), data, log);
  return {
    ready: {},
    stop: async () => {
      await timer.stop();
      s3.destroy();
    },
  };
});

/**
 * Compacts the lake every `intervalMs`, as the scheduled function does on AWS: the objects the local
 * Firehose wrote more than two buffer intervals ago, one generation per day. One run at a time; a stop
 * waits for the run under way, and a run killed with the stack is finished by the next.
 */
function startCompactionTimer(
  store: LakeStore,
  { intervalMs, minAgeMs }: { intervalMs: number; minAgeMs: number },
  log: (message: string) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const timer = setInterval(() => {
    // A tick while a run is under way is skipped, not queued behind it: the next tick takes what is left.
    if (running || stopped) return;
    running = (async () => {
      const report = await compactLake(store, {
        prefix: LOCAL_RESOURCES.lakePrefix,
        minAgeMs,
        keepGoing: () => !stopped,
      }).catch((err: Error) => {
        log(`compaction failed, will try again: ${err.message}`);
        return null;
      });
      if (report && report.compacted > 0) {
        log(
          `compacted ${report.compacted} day(s) of the lake: ${report.objectsBefore} objects to ${report.objectsAfter}` +
            `${report.duplicatesDropped > 0 ? `, ${report.duplicatesDropped} duplicate lines dropped` : ''}`,
        );
      }
    })().finally(() => {
      running = null;
    });
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
