/**
 * The batch path on AWS, run here: s3rver for both buckets, the embedded PostgreSQL behind a fake Redshift
 * Data API (tests/helpers/fake-redshift-data.ts), and the real state machine definition run by
 * tests/helpers/state-machine.ts against the real batch handler.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PgWarehouse, RAW_TABLE } from '../../src/adapters/pg-warehouse.js';
import { createPipelineResources } from '../../src/adapters/provision.js';
import { listKeys, readJson } from '../../src/adapters/s3-objects.js';
import { type BatchDeps, type BatchLimits, DEFAULT_LIMITS } from '../../src/batch/aws/deps.js';
import { type LoadStatus, loadKeys } from '../../src/batch/aws/records.js';
import { redshiftLoader } from '../../src/batch/aws/redshift-load.js';
import type { BatchEvent } from '../../src/batch/aws/steps.js';
import { createBatchHandler } from '../../src/handlers/batch.js';
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';
import { type Emulators, startEmulators } from './emulators.js';
import { type FakeRedshiftData, fakeRedshiftData } from './fake-redshift-data.js';
import { freePort } from './load-targets.js';
import { type Execution, type Json, runStateMachine, type StateMachineDefinition } from './state-machine.js';

export const RAW_BUCKET = 'ecomflow-test-raw';
export const LAKE_BUCKET = 'ecomflow-test-lake';
export const LAKE_PREFIX = 'lake/invoice_lines/';
export const COPY_ROLE_ARN = 'arn:aws:iam::123456789012:role/ecomflow-test-LakeCopyRole';
export const REDSHIFT_TARGET = {
  database: 'dev',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
  workgroupName: 'ecomflow-test',
};

/** The state machine as deployed (resources/batch.yml substitutes the function's ARN). */
export const DEFINITION = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'resources', 'batch-state-machine.json'), 'utf8'),
) as StateMachineDefinition;

/** The event EventBridge sends the state machine for an upload (S3 "Object Created"). */
export function objectCreatedEvent(bucket: string, key: string, size: number, etag = 'ignored'): Json {
  return {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key, size, etag, sequencer: '617f08299329d189' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      reason: 'PutObject',
    },
  };
}

export interface BatchBench {
  emu: Emulators;
  warehouse: PgWarehouse;
  redshift: FakeRedshiftData;
  /** Batch dependencies on the emulators, with test-sized limits. */
  deps(limits?: Partial<BatchLimits>): BatchDeps;
  /** Uploads bytes under incoming/ and runs the state machine on the upload's event, as AWS would. */
  upload(name: string, body: Uint8Array, metadata?: Record<string, string>): Promise<void>;
  run(name: string, limits?: Partial<BatchLimits>): Promise<Execution>;
  status(sourceId: string): Promise<LoadStatus | null>;
  lakeKeys(sourceId: string): Promise<string[]>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** The line ids in raw.invoice_lines. */
  rawLineIds(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startBatchBench(): Promise<BatchBench> {
  const dir = await mkdtemp(join(tmpdir(), 'ecomflow-batch-'));
  // As root, PostgreSQL runs as `postgres`, which must be able to enter the folder.
  await chmod(dir, 0o755);
  const emu = await startEmulators();
  await createPipelineResources({ s3: emu.s3 }, { buckets: [RAW_BUCKET, LAKE_BUCKET] });
  const local = await startEmbeddedPostgres({ dataDir: join(dir, 'warehouse'), port: await freePort() });
  const warehouse = new PgWarehouse(local.connectionString);
  await warehouse.ensureRaw();
  const redshift = fakeRedshiftData(local.connectionString, emu.s3);
  const sizes = new Map<string, number>();

  const bench: BatchBench = {
    emu,
    warehouse,
    redshift,
    deps(limits = {}) {
      return {
        s3: emu.s3,
        rawBucket: RAW_BUCKET,
        lake: { bucket: LAKE_BUCKET, prefix: LAKE_PREFIX },
        quarantine: { bucket: RAW_BUCKET, prefix: 'quarantine/' },
        warehouse: redshiftLoader(redshift.client, REDSHIFT_TARGET, COPY_ROLE_ARN, {
          intervalMs: 1,
          sleep: async () => undefined,
        }),
        limits: { ...DEFAULT_LIMITS, rangeBytes: 16 << 10, progressIntervalMs: 0, ...limits },
        now: () => new Date('2026-01-01T00:00:00Z'),
      };
    },
    async upload(name, body, metadata) {
      await emu.s3.send(
        new PutObjectCommand({
          Bucket: RAW_BUCKET,
          Key: `incoming/${name}`,
          Body: body,
          ...(metadata ? { Metadata: metadata } : {}),
        }),
      );
      sizes.set(name, body.byteLength);
    },
    run(name, limits) {
      const handler = createBatchHandler(() => bench.deps(limits));
      return runStateMachine(
        DEFINITION,
        objectCreatedEvent(RAW_BUCKET, `incoming/${name}`, sizes.get(name) ?? 0),
        async (resource, input) => {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the definition's substitution placeholder.
          if (resource !== '${BatchFunctionArn}') throw new Error(`unexpected resource ${resource}`);
          return (await handler(input as unknown as BatchEvent)) as unknown as Json;
        },
      );
    },
    status: (sourceId) => readJson<LoadStatus>(emu.s3, RAW_BUCKET, loadKeys(sourceId).status),
    async lakeKeys(sourceId) {
      const keys = await listKeys(emu.s3, LAKE_BUCKET, LAKE_PREFIX);
      return keys.filter((k) => k.includes(`/batch-${sourceId}-`)).sort();
    },
    async deleteObject(bucket, key) {
      await emu.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async rawLineIds() {
      const rows = await warehouse.query<{ line_id: string }>(`SELECT line_id FROM ${RAW_TABLE}`);
      return rows.map((r) => r.line_id).sort();
    },
    async stop() {
      await warehouse.close();
      await local.stop();
      await emu.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return bench;
}
