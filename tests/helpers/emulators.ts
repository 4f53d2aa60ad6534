/**
 * The AWS stand-ins, started in-process on free ports: kinesalite (Kinesis), dynalite (DynamoDB), s3rver
 * (S3) and the local Firehose endpoint. `startEmulators()` creates the stream, the tables (from
 * src/adapters/table-definitions.ts) and the quarantine bucket, and returns the environment the handlers
 * read; `stop()` tears everything down.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { createDocumentClient, type Item } from '../../src/adapters/dynamodb.js';
import { createKinesisClient } from '../../src/adapters/kinesis.js';
import { createPipelineResources } from '../../src/adapters/provision.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { loadPipelineConfig, type PipelineConfig } from '../../src/config/local.js';
import {
  type EntryError,
  type FirehoseServer,
  startFirehoseServer,
} from '../../src/local/firehose-server.js';
import { createS3rver } from '../../src/local/s3rver.js';
import { kinesisRecord } from './events.js';
import { fastClientOptions } from './faults.js';

export interface Emulators {
  /** The environment both handlers read, endpoints included. */
  env: Record<string, string>;
  config: PipelineConfig;
  kinesis: KinesisClient;
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
  /** s3rver's storage folder: `<s3Dir>/<bucket>/<key>._S3rver_object`, as DuckDB reads the local lake. */
  s3Dir: string;
  firehose: FirehoseServer;
  /** Records each delivery stream received, in order. */
  delivered: Map<string, Buffer[]>;
  /** Fault injection for the local Firehose; set to fail entries, reset to undefined. */
  failFirehoseRecord: ((stream: string, data: Buffer, index: number) => EntryError | undefined) | undefined;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  shards?: number;
}

/** Starts the stand-ins and creates the resources. Takes about 100 ms. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const kinesisServer = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 50,
  });
  const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const [kinesisPort, dynamoPort] = await Promise.all([listen(kinesisServer), listen(dynamoServer)]);
  const s3Dir = await mkdtemp(join(tmpdir(), 'ecomflow-s3rver-'));
  const s3rver = createS3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3Dir,
    resetOnClose: true,
  });
  const s3Address = await s3rver.run();
  const delivered = new Map<string, Buffer[]>();
  const emulators = {} as Emulators;
  const firehose = await startFirehoseServer({
    deliver: (stream, records) => {
      delivered.set(stream, [...(delivered.get(stream) ?? []), ...records]);
    },
    failRecord: (stream, data, index) => emulators.failFirehoseRecord?.(stream, data, index),
  });

  const env: Record<string, string> = {
    STAGE: 'test',
    AWS_REGION: 'us-east-1',
    STREAM_NAME: 'ecomflow-test-lines',
    INVOICES_TABLE: 'ecomflow-test-invoices',
    CUSTOMERS_TABLE: 'ecomflow-test-customers',
    LAKE_DELIVERY_STREAM: 'ecomflow-test-lake',
    WAREHOUSE_DELIVERY_STREAM: 'ecomflow-test-warehouse',
    QUARANTINE_BUCKET: 'ecomflow-test-quarantine',
    QUARANTINE_PREFIX: 'quarantine/',
    ECOMFLOW_KINESIS_ENDPOINT: `http://127.0.0.1:${kinesisPort}`,
    ECOMFLOW_DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`,
    ECOMFLOW_S3_ENDPOINT: `http://127.0.0.1:${s3Address.port}`,
    ECOMFLOW_FIREHOSE_ENDPOINT: firehose.url,
  };
  const config = loadPipelineConfig(env);
  const kinesis = createKinesisClient(config.aws, fastClientOptions());
  const dynamo = createDocumentClient(config.aws, fastClientOptions());
  const s3 = createS3Client(config.aws, fastClientOptions());

  await createPipelineResources(
    { kinesis, dynamo, s3 },
    {
      stream: { name: config.streamName, shards: options.shards ?? 2 },
      tables: config.tables,
      buckets: [config.quarantine.bucket],
    },
  );

  Object.assign(emulators, {
    env,
    config,
    kinesis,
    dynamo,
    s3,
    s3Dir,
    firehose,
    delivered,
    failFirehoseRecord: undefined,
    async stop() {
      for (const client of [kinesis, dynamo, s3]) client.destroy();
      await Promise.all([close(kinesisServer), close(dynamoServer), s3rver.close(), firehose.close()]);
      await rm(s3Dir, { recursive: true, force: true });
    },
  } satisfies Emulators);
  return emulators;
}

/**
 * Reads a stream the way a consumer does: from the start of every shard, then only what is new on each
 * call. Records come back as Lambda delivers them, grouped by shard.
 */
export class StreamReader {
  private readonly iterators = new Map<string, string>();

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
  ) {}

  /** New records, per shard in sequence order. */
  async next(): Promise<Map<string, KinesisStreamRecord[]>> {
    const out = new Map<string, KinesisStreamRecord[]>();
    const shards = await this.kinesis.send(new ListShardsCommand({ StreamName: this.streamName }));
    for (const shard of shards.Shards ?? []) {
      const shardId = shard.ShardId!;
      let iterator = this.iterators.get(shardId);
      if (!iterator) {
        const it = await this.kinesis.send(
          new GetShardIteratorCommand({
            StreamName: this.streamName,
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        iterator = it.ShardIterator!;
      }
      const records: KinesisStreamRecord[] = [];
      let current: string = iterator;
      for (;;) {
        const page: GetRecordsCommandOutput = await this.kinesis.send(
          new GetRecordsCommand({ ShardIterator: current, Limit: 10_000 }),
        );
        current = page.NextShardIterator ?? current;
        for (const r of page.Records ?? []) {
          records.push(
            kinesisRecord({
              data: r.Data!,
              sequenceNumber: r.SequenceNumber!,
              partitionKey: r.PartitionKey!,
              shardId,
            }),
          );
        }
        if ((page.Records ?? []).length === 0) break;
      }
      this.iterators.set(shardId, current);
      if (records.length > 0) out.set(shardId, records);
    }
    return out;
  }

  /** New records of every shard, shard after shard. */
  async all(): Promise<KinesisStreamRecord[]> {
    return [...(await this.next()).values()].flat();
  }
}

/** Every item of a table. */
export async function scanTable(dynamo: DynamoDBDocumentClient, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    items.push(...((page.Items ?? []) as Item[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Every quarantine object: key and parsed NDJSON rows. */
export async function readQuarantine(
  s3: S3Client,
  bucket: string,
): Promise<{ key: string; rows: Record<string, unknown>[] }[]> {
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const out = [];
  for (const object of list.Contents ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
    const text = await got.Body!.transformToString();
    out.push({
      key: object.Key!,
      rows: text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    });
  }
  return out;
}

/** A port nothing listens on: for "the service is unreachable". */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.closeAllConnections?.();
    server.close((error) => (error ? reject(error) : resolve()));
  });
}
