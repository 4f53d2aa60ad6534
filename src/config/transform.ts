import {
  type AwsConfig,
  awsConfig,
  ENV,
  type QuarantineConfig,
  quarantineConfig,
  type TablesConfig,
} from './aws.js';
import { type Env, requireVars } from './env.js';

/** What `src/handlers/transform.ts` (the Kinesis consumer) needs: the tables, Firehose and the quarantine. */
export interface TransformConfig {
  stage: string;
  aws: AwsConfig;
  tables: TablesConfig;
  deliveryStreams: { lake: string; warehouse: string };
  quarantine: QuarantineConfig;
}

export const TRANSFORM_VARS = [
  ENV.STAGE,
  ENV.INVOICES_TABLE,
  ENV.CUSTOMERS_TABLE,
  ENV.LAKE_DELIVERY_STREAM,
  ENV.WAREHOUSE_DELIVERY_STREAM,
  ENV.QUARANTINE_BUCKET,
] as const;

/**
 * The transform function's configuration.
 * @throws ConfigError naming every missing variable
 */
export function loadTransformConfig(env: Env): TransformConfig {
  const v = requireVars(env, TRANSFORM_VARS, 'transform');
  return {
    stage: v.STAGE,
    aws: awsConfig(env),
    tables: { invoices: v.INVOICES_TABLE, customers: v.CUSTOMERS_TABLE },
    deliveryStreams: { lake: v.LAKE_DELIVERY_STREAM, warehouse: v.WAREHOUSE_DELIVERY_STREAM },
    quarantine: quarantineConfig(env, v.QUARANTINE_BUCKET),
  };
}
