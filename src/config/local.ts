/**
 * The local stack's settings (`ecomflow up` and the commands beside it): the environment, read once at
 * start-up and validated, the names of the local resources, and the defaults of the local warehouse.
 */
import { resolve } from 'node:path';
import type { ApiConfig } from './api.js';
import { API_VARS, loadApiConfig } from './api.js';
import { type AuthMode, readAuthMode } from './auth.js';
import { type Endpoints, LOCAL_REGION } from './aws.js';
import { type Env, requireVars, wholeNumber } from './env.js';
import {
  DEFAULT_LAKE_YEARS,
  FIREHOSE_RECORD_KB,
  loadTransformConfig,
  TRANSFORM_VARS,
  type TransformConfig,
} from './transform.js';

/** Both streaming functions' configuration: what the local stack (and the emulator tests) run them with. */
export type PipelineConfig = ApiConfig & TransformConfig;

/**
 * Both functions' configuration from one environment, as the emulator tests build it.
 * @throws ConfigError naming every missing variable
 */
export function loadPipelineConfig(env: Env): PipelineConfig {
  requireVars(env, [...new Set([...API_VARS, ...TRANSFORM_VARS])], 'ecomflow');
  return { ...loadApiConfig(env), ...loadTransformConfig(env) };
}

/**
 * The local warehouse's port and login when nothing else is set. `user` is the cluster's superuser; its
 * `password` is what tests' own clusters use, and what a state folder from before the generated passwords
 * has (the stack replaces it). The stack itself connects as `pipelineUser`, and BI clients as `readerUser`,
 * neither a superuser, with passwords generated once and kept in WAREHOUSE_LOGINS_FILE.
 */
export const LOCAL_WAREHOUSE_DEFAULTS = {
  port: 5433,
  user: 'ecomflow',
  password: 'ecomflow',
  database: 'ecomflow',
  pipelineUser: 'ecomflow_pipeline',
  readerUser: 'ecomflow_reader',
} as const;

/** The state file with the warehouse's generated passwords (superuser, pipeline, reader), mode 0600. */
export const WAREHOUSE_LOGINS_FILE = 'warehouse-logins.json';

/** A local warehouse's connection string. */
export function localWarehouseUrl(
  port: number,
  login: { user: string; password: string; database: string } = LOCAL_WAREHOUSE_DEFAULTS,
): string {
  return `postgres://${login.user}:${login.password}@127.0.0.1:${port}/${login.database}`;
}

/** The local warehouse's connection string when nothing else is set; what `npm start` prints. */
export const DEFAULT_WAREHOUSE_URL = localWarehouseUrl(LOCAL_WAREHOUSE_DEFAULTS.port);

/** Every part of the stack that listens, with its default port. */
export const DEFAULT_PORTS = {
  api: 3000,
  kinesis: 4567,
  dynamodb: 4568,
  s3: 4569,
  firehose: 4573,
  warehouse: LOCAL_WAREHOUSE_DEFAULTS.port,
} as const;

export type StackPorts = {
  kinesis: number;
  dynamodb: number;
  s3: number;
  firehose: number;
  warehouse: number;
};

/** The local stack's settings. */
export interface StackSettings {
  /** State folder: emulator data, the lake, the warehouse, the API key. Survives restarts. */
  home: string;
  apiPort: number;
  /** From ECOMFLOW_API_KEY; otherwise generated once and kept in the state folder. */
  apiKey: string | undefined;
  ports: StackPorts;
  /** Local Firehose buffering interval. */
  bufferMs: number;
  /** `ECOMFLOW_WAREHOUSE_URL`: the warehouse `ecomflow refresh` uses instead of the stack's. */
  warehouseUrl: string | undefined;
  /** How often the stack compacts the lake; 0 never. */
  compactIntervalMs: number;
  /** Lake objects younger than this are left to a later compaction: two Firehose buffer intervals. */
  compactMinAgeMs: number;
  /** `ECOMFLOW_AUTH`: whether the local gateway requires a token (`cognito`) or the API key only (default). */
  auth?: AuthMode;
  /** How often the stack checks for new lines and refreshes the marts and the snapshot; 0 never. */
  refreshIntervalMs: number;
  /**
   * The records a `transform` invocation gets at most, as the event source mapping's BatchSize; undefined
   * for the mapping's own (TRANSFORM_EVENT_SOURCE, which the poller defaults to).
   */
  streamBatchSize: number | undefined;
}

export const STACK_VARIABLES = {
  home: 'ECOMFLOW_HOME',
  apiPort: 'PORT',
  apiKey: 'ECOMFLOW_API_KEY',
  kinesis: 'ECOMFLOW_KINESIS_PORT',
  dynamodb: 'ECOMFLOW_DYNAMODB_PORT',
  s3: 'ECOMFLOW_S3_PORT',
  firehose: 'ECOMFLOW_FIREHOSE_PORT',
  warehouse: 'ECOMFLOW_WAREHOUSE_PORT',
  bufferMs: 'ECOMFLOW_FIREHOSE_BUFFER_MS',
  warehouseUrl: 'ECOMFLOW_WAREHOUSE_URL',
  compactIntervalMs: 'ECOMFLOW_COMPACT_INTERVAL_MS',
  refreshIntervalMs: 'ECOMFLOW_REFRESH_INTERVAL_MS',
  streamBatchSize: 'ECOMFLOW_STREAM_BATCH_SIZE',
} as const;

/** Every variable that places a part of the stack on a port (tests and benchmarks pick free ones). */
export const STACK_PORT_VARIABLES = [
  STACK_VARIABLES.apiPort,
  STACK_VARIABLES.kinesis,
  STACK_VARIABLES.dynamodb,
  STACK_VARIABLES.s3,
  STACK_VARIABLES.firehose,
  STACK_VARIABLES.warehouse,
] as const;

/**
 * Modes of the state folder's parts. Data and secrets are this user's only. The folder itself may be
 * passed through by others (0711) but not listed: the embedded PostgreSQL runs as `postgres` when the stack
 * runs as root, and must reach its own data folder inside.
 */
export const STATE_DIR_MODE = 0o700;
export const STATE_FILE_MODE = 0o600;
export const STATE_HOME_MODE = 0o711;

/** The largest BatchSize an event source mapping on a Kinesis stream takes (AWS::Lambda::EventSourceMapping). */
export const KINESIS_EVENT_SOURCE_MAX_BATCH_SIZE = 10_000;

/**
 * Environment the stack's process starts with: `npm start` sets it (package.json), and the tests and
 * benchmarks spawn the stack with it. glibc's malloc raises its mmap threshold each time a large block is
 * freed, so after the first few 5 MB bodies their copies came from the brk heap, which it seldom gives
 * back: after a burst of 48 bodies the stack kept about 400 MB it no longer used (1.4 GB resident against
 * 0.97 GB with it). A fixed threshold keeps large blocks mmapped, returned to the system when freed
 * ("Malloc Tunable Parameters", M_MMAP_THRESHOLD, in the glibc manual). Other C libraries ignore it.
 */
export const STACK_PROCESS_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' } as const;

/** The default local Firehose buffering interval. */
export const DEFAULT_BUFFER_MS = 5_000;

/** The local stack compacts the lake this often by default (on AWS the schedule is hourly). */
export const DEFAULT_COMPACT_INTERVAL_MS = 60_000;

/**
 * The local stack checks for new lines this often by default and then refreshes the marts (on AWS the
 * schedule is every 15 minutes): a check that finds nothing costs one COUNT(*) of raw.
 */
export const DEFAULT_REFRESH_INTERVAL_MS = 30_000;

/** Names of the local resources: one place, shared by the stack and the CLI commands beside it. */
export const LOCAL_RESOURCES = {
  stage: 'local',
  region: LOCAL_REGION,
  stream: 'ecomflow-local-lines',
  invoicesTable: 'ecomflow-local-invoices',
  customersTable: 'ecomflow-local-customers',
  lakeDeliveryStream: 'ecomflow-local-lake',
  warehouseDeliveryStream: 'ecomflow-local-warehouse',
  lakeBucket: 'ecomflow-local-lake',
  rawBucket: 'ecomflow-local-raw',
  lakePrefix: 'lake/invoice_lines/',
  quarantinePrefix: 'quarantine/',
  /** Where the local Firehose moves lines the warehouse keeps refusing (Firehose's `errors/` on AWS). */
  firehoseErrorsPrefix: 'errors/',
  shards: 2,
} as const;

/** @throws ConfigError naming the variable whose value is not usable */
export function readStackSettings(env: Env = process.env): StackSettings {
  const port = (name: string, fallback: number) => wholeNumber(env, name, fallback, 0, 65_535);
  const bufferMs = wholeNumber(env, STACK_VARIABLES.bufferMs, DEFAULT_BUFFER_MS, 10, 900_000);
  return {
    home: resolve(env[STACK_VARIABLES.home] || '.ecomflow'),
    apiPort: port(STACK_VARIABLES.apiPort, DEFAULT_PORTS.api),
    apiKey: env[STACK_VARIABLES.apiKey] || undefined,
    ports: {
      kinesis: port(STACK_VARIABLES.kinesis, DEFAULT_PORTS.kinesis),
      dynamodb: port(STACK_VARIABLES.dynamodb, DEFAULT_PORTS.dynamodb),
      s3: port(STACK_VARIABLES.s3, DEFAULT_PORTS.s3),
      firehose: port(STACK_VARIABLES.firehose, DEFAULT_PORTS.firehose),
      warehouse: port(STACK_VARIABLES.warehouse, DEFAULT_PORTS.warehouse),
    },
    bufferMs,
    warehouseUrl: env[STACK_VARIABLES.warehouseUrl]?.trim() || undefined,
    compactIntervalMs: wholeNumber(
      env,
      STACK_VARIABLES.compactIntervalMs,
      DEFAULT_COMPACT_INTERVAL_MS,
      0,
      86_400_000,
    ),
    compactMinAgeMs: 2 * bufferMs,
    auth: readAuthMode(env),
    refreshIntervalMs: wholeNumber(
      env,
      STACK_VARIABLES.refreshIntervalMs,
      DEFAULT_REFRESH_INTERVAL_MS,
      0,
      86_400_000,
    ),
    streamBatchSize: env[STACK_VARIABLES.streamBatchSize]
      ? wholeNumber(env, STACK_VARIABLES.streamBatchSize, 0, 1, KINESIS_EVENT_SOURCE_MAX_BATCH_SIZE)
      : undefined,
  };
}

/**
 * Both functions' configuration for the local stack, built from the local resource names and the
 * stand-ins' endpoints: the same values serverless.yml gives the functions on AWS, without an environment.
 */
export function localPipelineConfig(endpoints: Required<Endpoints>): PipelineConfig {
  const r = LOCAL_RESOURCES;
  const tables = { invoices: r.invoicesTable, customers: r.customersTable };
  const quarantine = { bucket: r.rawBucket, prefix: r.quarantinePrefix };
  return {
    stage: r.stage,
    aws: { region: r.region, endpoints },
    streamName: r.stream,
    tables,
    deliveryStreams: { lake: r.lakeDeliveryStream, warehouse: r.warehouseDeliveryStream },
    quarantine,
    auditBucket: r.rawBucket,
    // Locally the gateway answers the page's auth.js itself, with a local token: no hosted UI.
    signIn: null,
    // The local stack runs erasures itself (src/local/erasure.ts), in no function.
    eraseFunction: undefined,
    firehoseRecordMaxBytes: FIREHOSE_RECORD_KB.default * 1024,
    lakeYears: { ...DEFAULT_LAKE_YEARS },
  };
}

export interface WarehouseUrl {
  url: string;
  /** Where it came from, for the user: `--url`, the variable, the running stack, or the default. */
  source: string;
}

/**
 * The warehouse to refresh: `--url`, else `ECOMFLOW_WAREHOUSE_URL`, else the running local stack's
 * (`<ECOMFLOW_HOME>/stack.json`), else `DEFAULT_WAREHOUSE_URL`.
 */
export function resolveWarehouseUrl(
  flag: string | undefined,
  settings: Pick<StackSettings, 'warehouseUrl' | 'home'>,
  runningStackUrl: string | undefined,
): WarehouseUrl {
  if (flag) return { url: flag, source: '--url' };
  if (settings.warehouseUrl) return { url: settings.warehouseUrl, source: STACK_VARIABLES.warehouseUrl };
  if (runningStackUrl) return { url: runningStackUrl, source: `the local stack in ${settings.home}` };
  return { url: DEFAULT_WAREHOUSE_URL, source: 'the default' };
}
