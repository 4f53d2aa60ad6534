import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { baseClientConfig } from '../adapters/aws.js';
import { createKinesisClient } from '../adapters/kinesis.js';
import { PgWarehouse } from '../adapters/pg-warehouse.js';
import { createPipelineResources } from '../adapters/provision.js';
import { createS3Client } from '../adapters/s3.js';
import { createApiDeps } from '../api/deps.js';
import { AUTH_MODES, LOCAL_AUTH } from '../config/auth.js';
import { once } from '../config/env.js';
import {
  LOCAL_RESOURCES,
  LOCAL_WAREHOUSE_DEFAULTS,
  localPipelineConfig,
  type PipelineConfig,
  STACK_VARIABLES,
  STATE_FILE_MODE,
  STATE_HOME_MODE,
  type StackSettings,
  WAREHOUSE_LOGINS_FILE,
} from '../config/local.js';
import { readJsonState, writeAtomically } from '../files.js';
import { createApiHandler } from '../handlers/api.js';
import type { CompactionWorkerData } from './compaction-worker.js';
import { DEAD_LETTER_FILE } from './dead-letters.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { close, listen, PortInUseError, startEmulators } from './emulators.js';
import { localErasureRunner } from './erasure.js';
import {
  FIREHOSE_SPOOL_DIR,
  LocalFirehoseDelivery,
  RefusedLineError,
  SpoolSegmentError,
} from './firehose-delivery.js';
import { startFirehoseServer } from './firehose-server.js';
import { createGateway } from './gateway.js';
import { humanLog } from './human-log.js';
import { startPartThread } from './part-worker.js';
import type { RefreshWorkerData } from './refresh-worker.js';
import type { StreamWorkerData } from './stream-worker.js';
import { dashboardToken, loadOrCreateSigningKey, localAuthScript, verifyToken } from './tokens.js';

/** What `ecomflow up` writes to `<home>/stack.json`, so the commands beside it find the running parts. */
export interface StackInfo {
  pid: number;
  apiUrl: string;
  apiKey: string;
  /** The pipeline's login (owner of the warehouse's tables; not a superuser). */
  warehouseUrl: string;
  /** The BI clients' login: SELECT on staging and the marts only. */
  readerWarehouseUrl: string;
  /** Glob of the lake's Parquet objects inside s3rver's storage. */
  lakeGlob: string;
  lakeUri: string;
  /** Glob of the quarantine's NDJSON objects inside s3rver's storage (`quarantine/<source>/date=<day>/`). */
  quarantineGlob: string;
  endpoints: { kinesis: string; dynamodb: string; s3: string; firehose: string };
}

export interface RunningStack {
  info: StackInfo;
  config: PipelineConfig;
  /** True when the state folder was new: the caller streams the sample in. */
  fresh: boolean;
  /** Stops taking requests, finishes the batches under way, flushes Firehose, stops every part. */
  stop(): Promise<void>;
}

export const STACK_INFO_FILE = 'stack.json';

/**
 * Starts the whole pipeline on this machine: kinesalite, dynalite, s3rver, the embedded PostgreSQL, the
 * local Firehose, the Kinesis poller running the `transform` handler, and the gateway in front of the `api`
 * handler. The handlers are the production code, configured through the same environment variables.
 * The gateway starts last, so `GET /health` answers 200 only once every part is up.
 */
export async function startStack(
  settings: StackSettings,
  log: (message: string) => void,
): Promise<RunningStack> {
  const home = settings.home;
  await mkdir(home, { recursive: true });
  await chmod(home, STATE_HOME_MODE);
  const fresh = !(await readFile(join(home, STACK_INFO_FILE), 'utf8').then(
    () => true,
    () => false,
  ));
  const apiKey = settings.apiKey ?? (await loadOrCreateApiKey(home));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err: Error) => log(`while stopping: ${err.message}`));
  };

  try {
    const emulators = await startEmulators(home, settings.ports);
    stops.push(emulators.stop);

    const logins = await loadOrCreateWarehouseLogins(home);
    const local = await startEmbeddedPostgres({
      dataDir: join(home, 'warehouse'),
      port: settings.ports.warehouse,
      password: logins.passwords.admin,
      previousPassword: logins.created ? LOCAL_WAREHOUSE_DEFAULTS.password : undefined,
      roles: {
        pipeline: { user: LOCAL_WAREHOUSE_DEFAULTS.pipelineUser, password: logins.passwords.pipeline },
        reader: { user: LOCAL_WAREHOUSE_DEFAULTS.readerUser, password: logins.passwords.reader },
      },
      // Out of the terminal's process group: a Ctrl-C must not stop it before the Firehose flush, which
      // needs it; stopAll stops it after the flush.
      detached: true,
    }).catch((err: Error) => {
      // PostgreSQL says so in its log when the port is taken (it listens on 127.0.0.1 only, so failing to
      // create its one socket means the port); any other failure is passed on as it is.
      if (
        /address already in use|could not bind|could not create (any TCP\/IP sockets|listen socket)/i.test(
          err.message,
        )
      ) {
        throw new PortInUseError(
          'the warehouse (embedded PostgreSQL)',
          settings.ports.warehouse,
          STACK_VARIABLES.warehouse,
        );
      }
      throw err;
    });
    stops.push(local.stop);
    const warehouse = new PgWarehouse(local.connectionString);
    stops.push(() => warehouse.close());
    await warehouse.ensureRaw();

    const r = LOCAL_RESOURCES;
    const s3 = createS3Client({ region: r.region, endpoints: { s3: emulators.endpoints.s3 } });
    const delivery = new LocalFirehoseDelivery({
      lake: { stream: r.lakeDeliveryStream, s3, bucket: r.lakeBucket, prefix: r.lakePrefix },
      // Lines the warehouse keeps refusing as data go where Firehose's Redshift destination puts them.
      warehouse: {
        stream: r.warehouseDeliveryStream,
        warehouse,
        errors: { bucket: r.rawBucket, prefix: LOCAL_RESOURCES.firehoseErrorsPrefix },
      },
      bufferMs: settings.bufferMs,
      spoolDir: join(home, FIREHOSE_SPOOL_DIR),
      // A damaged spool segment found at start is a report of its own, not a delivery to retry.
      onError: (err) =>
        log(
          err instanceof SpoolSegmentError
            ? `local Firehose spool: ${err.message}`
            : err instanceof RefusedLineError
              ? `local Firehose: ${err.message}`
              : `local Firehose delivery failed, will retry: ${err.message}`,
        ),
    });
    const firehose = await startFirehoseServer({
      deliver: delivery.deliver,
      streams: [r.lakeDeliveryStream, r.warehouseDeliveryStream],
      port: settings.ports.firehose,
    }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE'
        ? new PortInUseError('Firehose (local)', settings.ports.firehose, STACK_VARIABLES.firehose)
        : err;
    });
    stops.push(() => firehose.close());
    stops.push(() => delivery.stop());
    const recovered = await delivery.recover();
    if (recovered > 0) log(`delivered ${recovered} lines a previous run had accepted but not yet delivered`);

    // The same configuration serverless.yml gives the functions on AWS, built here from the names of the
    // local resources and the stand-ins' endpoints.
    const config = localPipelineConfig({ ...emulators.endpoints, firehose: firehose.url });
    const kinesis = createKinesisClient(config.aws);
    await createResources(config, kinesis, s3);

    // The poller and `transform` run on a thread of their own (src/local/stream-worker.ts). A batch still
    // in hand at stop is finished: a stop waits for it at most 15 s.
    const stream = await startPartThread<Record<string, never>>(
      import.meta.url,
      'stream-worker',
      {
        config,
        streamArn: `arn:aws:kinesis:${r.region}:000000000000:stream/${r.stream}`,
        checkpointFile: join(home, 'poller-checkpoints.json'),
        deadLetterFile: join(home, DEAD_LETTER_FILE),
        batchSize: settings.streamBatchSize,
      } satisfies StreamWorkerData,
      { part: 'the stream (poller and transform)', log, stopTimeoutMs: 15_000 },
    );
    stops.push(() => stream.stop());

    // Compaction reads and rewrites Parquet in JavaScript, seconds of work on a big lake: on a thread of
    // its own, so the gateway (and /health) do not wait for it (src/local/compaction-worker.ts).
    if (settings.compactIntervalMs > 0) {
      const compaction = await startPartThread<Record<string, never>>(
        import.meta.url,
        'compaction-worker',
        {
          aws: config.aws,
          bucket: r.lakeBucket,
          prefix: r.lakePrefix,
          lakeYears: config.lakeYears,
          intervalMs: settings.compactIntervalMs,
          minAgeMs: settings.compactMinAgeMs,
        } satisfies CompactionWorkerData,
        { part: 'lake compaction', log, stopTimeoutMs: 15_000 },
      );
      stops.push(() => compaction.stop());
    }

    // Live marts: staging, the marts, the loyalty balances and the dashboard snapshot refreshed whenever
    // lines arrived, as the scheduled refresh function does on AWS (src/local/live-refresh.ts).
    // On a thread of its own, with its own connection (src/local/refresh-worker.ts).
    if (settings.refreshIntervalMs > 0) {
      const liveRefresh = await startPartThread<Record<string, never>>(
        import.meta.url,
        'refresh-worker',
        {
          warehouseUrl: local.connectionString,
          endpoints: { ...emulators.endpoints, firehose: firehose.url },
          intervalMs: settings.refreshIntervalMs,
        } satisfies RefreshWorkerData,
        { part: 'the live refresh', log, stopTimeoutMs: 30_000 },
      );
      stops.push(() => liveRefresh.stop());
    }

    const erasures = localErasureRunner(
      { endpoints: { ...emulators.endpoints, firehose: firehose.url }, warehouseUrl: local.connectionString },
      home,
      log,
    );
    stops.push(() => erasures.stop());
    const api = createApiHandler(
      once(() => ({ ...createApiDeps(config), requestErasure: erasures.request })),
      undefined,
      () => ({ delivery: delivery.health() }),
      // A failure shows as one of the stack's own lines, not the Lambda's JSON log record.
      humanLog('api', log),
    );
    // Tokens from `ecomflow token` (and the dashboard's) are checked with the state folder's key; in the
    // default mode only when a request sends one (ECOMFLOW_AUTH, src/config/auth.ts).
    const signingKey = await loadOrCreateSigningKey(home);
    const gateway: Server = createGateway({
      handler: api,
      apiKey,
      stage: r.stage,
      auth: {
        mode: settings.auth ?? AUTH_MODES.apiKey,
        issuer: LOCAL_AUTH.issuer,
        verify: (token) => verifyToken(signingKey, token),
      },
      // The dashboard on 127.0.0.1 needs no sign-in: a fresh analyst token each time the page loads.
      dashboardAuthScript: async () => localAuthScript({ token: await dashboardToken(signingKey), apiKey }),
    });
    const apiPort = await listen(gateway, settings.apiPort, 'the API', STACK_VARIABLES.apiPort);
    stops.push(() => close(gateway));

    const info: StackInfo = {
      pid: process.pid,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      apiKey,
      warehouseUrl: local.connectionString,
      readerWarehouseUrl: local.readerConnectionString!,
      lakeGlob: join(emulators.s3Dir, r.lakeBucket, r.lakePrefix, '**', '*.parquet._S3rver_object'),
      lakeUri: `s3://${r.lakeBucket}/${r.lakePrefix}`,
      quarantineGlob: join(
        emulators.s3Dir,
        r.rawBucket,
        r.quarantinePrefix,
        '*',
        'date=*',
        '*.ndjson._S3rver_object',
      ),
      endpoints: { ...emulators.endpoints, firehose: firehose.url },
    };
    // Atomically: the commands beside the stack, and its tests, read it while it starts.
    // It holds the API key: readable by this user only.
    await writeAtomically(join(home, STACK_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`, {
      mode: STATE_FILE_MODE,
    });
    stops.push(() => rm(join(home, 'stack.pid'), { force: true }));
    await writeAtomically(join(home, 'stack.pid'), String(process.pid));
    return { info, config, fresh, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Creates the stream, tables and buckets unless they exist (the state folder keeps them). */
async function createResources(
  config: PipelineConfig,
  kinesis: ReturnType<typeof createKinesisClient>,
  s3: S3Client,
) {
  const dynamo = new DynamoDBClient(baseClientConfig(config.aws, 'dynamodb'));
  try {
    await createPipelineResources(
      { kinesis, dynamo, s3 },
      {
        stream: { name: config.streamName, shards: LOCAL_RESOURCES.shards },
        tables: config.tables,
        buckets: [LOCAL_RESOURCES.lakeBucket, LOCAL_RESOURCES.rawBucket],
      },
    );
  } finally {
    dynamo.destroy();
  }
}

interface WarehousePasswords {
  admin: string;
  pipeline: string;
  reader: string;
}

/**
 * The warehouse's passwords, generated on the first start and kept in WAREHOUSE_LOGINS_FILE (this user
 * only). `created` says they are new: a warehouse already in the state folder still has the default
 * superuser password, which the start then replaces.
 */
async function loadOrCreateWarehouseLogins(
  home: string,
): Promise<{ passwords: WarehousePasswords; created: boolean }> {
  const file = join(home, WAREHOUSE_LOGINS_FILE);
  const kept = await readJsonState<WarehousePasswords>(
    file,
    "the warehouse's passwords",
    (value) => {
      const v = value as Partial<Record<keyof WarehousePasswords, unknown>> | null;
      return v &&
        ['admin', 'pipeline', 'reader'].every((k) => typeof v[k as keyof WarehousePasswords] === 'string')
        ? null
        : 'it lacks the admin, pipeline or reader password';
    },
    // New passwords would lock the stack out of its own warehouse.
    'restore it from a backup, or remove the state folder to start afresh',
  );
  if (kept) return { passwords: kept, created: false };
  const password = () => randomBytes(18).toString('base64url');
  const passwords = { admin: password(), pipeline: password(), reader: password() };
  await writeAtomically(file, `${JSON.stringify(passwords, null, 2)}\n`, { mode: STATE_FILE_MODE });
  return { passwords, created: true };
}

async function loadOrCreateApiKey(home: string): Promise<string> {
  const file = join(home, 'api-key');
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key) return key;
  } catch {
    // none yet
  }
  const key = randomBytes(24).toString('base64url');
  await writeAtomically(file, `${key}\n`, { mode: STATE_FILE_MODE });
  return key;
}

/** Reads what a running `ecomflow up` wrote; a clear error when there is none. */
export async function readStackInfo(home: string): Promise<StackInfo> {
  try {
    return JSON.parse(await readFile(join(home, STACK_INFO_FILE), 'utf8')) as StackInfo;
  } catch {
    throw new Error(`no local stack found in ${home}: start it with \`npm start\` (or set ECOMFLOW_HOME)`);
  }
}
