/**
 * Worker thread side of the stack's stream part: the Kinesis poller invoking the `transform` handler, on a
 * thread of its own as the function runs in an execution environment of its own on AWS. A batch of up to
 * 10 MB is decoded and cleaned in one go; on the stack's main thread that held the gateway, `/health`
 * with it, for a second or more under a burst of big bodies. Ready with `{}` once polling; on 'stop' it
 * finishes the batches in hand and saves the checkpoints (src/local/part-worker.ts).
 */
import { workerData } from 'node:worker_threads';
import { createKinesisClient } from '../adapters/kinesis.js';
import { once } from '../config/env.js';
import type { PipelineConfig } from '../config/local.js';
import { createTransformHandler } from '../handlers/transform.js';
import { createTransformDeps } from '../stream/deps.js';
import { humanLog } from './human-log.js';
import { KinesisPoller } from './kinesis-poller.js';
import { servePart } from './part-worker.js';

export interface StreamWorkerData {
  config: PipelineConfig;
  streamArn: string;
  checkpointFile: string;
  deadLetterFile: string;
  batchSize: number | undefined;
}

const data = workerData as StreamWorkerData;

servePart<Record<string, never>>(async (log) => {
  const { config } = data;
  const transform = createTransformHandler(
    once(() => createTransformDeps(config, humanLog('transform', log))),
  );
  const poller = new KinesisPoller({
    kinesis: createKinesisClient(config.aws),
    streamName: config.streamName,
    streamArn: data.streamArn,
    region: config.aws.region!,
    handler: transform,
    checkpointFile: data.checkpointFile,
    deadLetterFile: data.deadLetterFile,
    ...(data.batchSize === undefined ? {} : { batchSize: data.batchSize }),
    onError: (err) => log(`transform: ${err.message}`),
  });
  await poller.start();
  return { ready: {}, stop: () => poller.stop() };
});
