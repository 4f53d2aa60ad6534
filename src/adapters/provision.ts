import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException as StreamInUseException,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sleep } from './retry.js';
import { tableDefinitions } from './table-definitions.js';

/** What to create; each part is optional, for tests that need only some. */
export interface PipelineResources {
  stream?: { name: string; shards: number };
  tables?: { invoices: string; customers: string };
  buckets?: readonly string[];
}

export interface ProvisionClients {
  kinesis?: KinesisClient;
  dynamo?: DynamoDBClient | DynamoDBDocumentClient;
  s3?: S3Client;
}

/** How often to ask whether a resource is ACTIVE, and for how long; the stand-ins take milliseconds. */
const ACTIVE_POLL = { intervalMs: 25, timeoutMs: 30_000 } as const;

async function untilActive(what: string, status: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + ACTIVE_POLL.timeoutMs;
  for (;;) {
    const now = await status();
    if (now === 'ACTIVE') return;
    if (Date.now() >= deadline) {
      throw new Error(`${what} is still ${now ?? 'unknown'} after ${ACTIVE_POLL.timeoutMs} ms`);
    }
    await sleep(ACTIVE_POLL.intervalMs);
  }
}

function clientFor<T>(client: T | undefined, resource: string): T {
  if (!client) throw new TypeError(`creating ${resource} needs its client`);
  return client;
}

/**
 * Creates what the pipeline writes to on the stand-ins: the stream, the tables and the buckets. On AWS
 * CloudFormation does this (resources/*.yml); here the local stack and the tests call it once before the
 * handlers run. Each call is idempotent (a resource that exists is kept, with its data), and it returns
 * only when the stream and the tables are ACTIVE: CreateStream and CreateTable answer while the resource
 * is still CREATING, and dynalite, like DynamoDB, refuses writes to a CREATING table with
 * ResourceNotFoundException.
 */
export async function createPipelineResources(
  clients: ProvisionClients,
  resources: PipelineResources,
): Promise<void> {
  const jobs: Promise<void>[] = [];
  if (resources.stream) {
    const kinesis = clientFor(clients.kinesis, 'the stream');
    const { name, shards } = resources.stream;
    jobs.push(
      (async () => {
        await kinesis
          .send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }))
          .catch((err: unknown) => {
            if (!(err instanceof StreamInUseException)) throw err;
          });
        await untilActive(`stream ${name}`, async () => {
          const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
          return summary.StreamDescriptionSummary?.StreamStatus;
        });
      })(),
    );
  }
  if (resources.tables) {
    // A document client sends the low-level client's commands unchanged, so either kind will do.
    const dynamo = clientFor(clients.dynamo, 'the tables') as DynamoDBClient;
    for (const table of tableDefinitions(resources.tables)) {
      const name = table.TableName!;
      jobs.push(
        (async () => {
          await dynamo.send(new CreateTableCommand(table)).catch((err: unknown) => {
            if (!(err instanceof ResourceInUseException)) throw err;
          });
          await untilActive(`table ${name}`, async () => {
            const described = await dynamo.send(new DescribeTableCommand({ TableName: name }));
            return described.Table?.TableStatus;
          });
        })(),
      );
    }
  }
  if (resources.buckets?.length) {
    const s3 = clientFor(clients.s3, 'the buckets');
    for (const bucket of resources.buckets) {
      jobs.push(
        s3.send(new CreateBucketCommand({ Bucket: bucket })).then(
          () => undefined,
          (err: Error) => {
            if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
          },
        ),
      );
    }
  }
  // allSettled first, so that no creation is left running when one fails.
  const outcomes = await Promise.allSettled(jobs);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}
