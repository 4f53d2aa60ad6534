import { resolve } from 'node:path';
import { PORT_VARIABLES } from './emulators.js';

/** The local stack's settings: the environment, read once at start-up and validated. */
export interface StackSettings {
  /** State folder: emulator data, the lake, the warehouse, the API key. Survives restarts. */
  home: string;
  apiPort: number;
  /** From ECOMFLOW_API_KEY; otherwise generated once and kept in the state folder. */
  apiKey: string | undefined;
  ports: { kinesis: number; dynamodb: number; s3: number; firehose: number; warehouse: number };
  /** Local Firehose buffering interval. */
  bufferMs: number;
}

export const STACK_VARIABLES = {
  home: 'ECOMFLOW_HOME',
  apiPort: 'PORT',
  apiKey: 'ECOMFLOW_API_KEY',
  ...PORT_VARIABLES,
  firehose: 'ECOMFLOW_FIREHOSE_PORT',
  warehouse: 'ECOMFLOW_WAREHOUSE_PORT',
  bufferMs: 'ECOMFLOW_FIREHOSE_BUFFER_MS',
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

/** Names of the local resources: one place, shared by the stack and the CLI commands beside it. */
export const LOCAL_RESOURCES = {
  stage: 'local',
  region: 'us-east-1',
  stream: 'ecomflow-local-lines',
  invoicesTable: 'ecomflow-local-invoices',
  customersTable: 'ecomflow-local-customers',
  lakeDeliveryStream: 'ecomflow-local-lake',
  warehouseDeliveryStream: 'ecomflow-local-warehouse',
  lakeBucket: 'ecomflow-local-lake',
  rawBucket: 'ecomflow-local-raw',
  lakePrefix: 'lake/invoice_lines/',
  quarantinePrefix: 'quarantine/',
  shards: 2,
} as const;

/** @throws Error naming the variable whose value is not usable */
export function readStackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  return {
    home: resolve(env[STACK_VARIABLES.home] || '.ecomflow'),
    apiPort: port(env, STACK_VARIABLES.apiPort, 3000),
    apiKey: env[STACK_VARIABLES.apiKey] || undefined,
    ports: {
      kinesis: port(env, STACK_VARIABLES.kinesis, 4567),
      dynamodb: port(env, STACK_VARIABLES.dynamodb, 4568),
      s3: port(env, STACK_VARIABLES.s3, 4569),
      firehose: port(env, STACK_VARIABLES.firehose, 4573),
      warehouse: port(env, STACK_VARIABLES.warehouse, 5433),
    },
    bufferMs: number(env, STACK_VARIABLES.bufferMs, 5_000, 10, 900_000),
  };
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return number(env, name, fallback, 0, 65_535);
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}
