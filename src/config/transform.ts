import {
  type AwsConfig,
  awsConfig,
  ENV,
  type QuarantineConfig,
  quarantineConfig,
  type TablesConfig,
} from './aws.js';
import { type Env, requireVars, wholeNumber } from './env.js';

/**
 * Firehose bills each record rounded up to 5 KB and takes at most 1,000 KiB a record (and 4 MiB a request).
 * Records of up to 256 KiB keep the rounding under 2% of a full record, and a request to four or more.
 */
export const FIREHOSE_RECORD_KB = { default: 256, min: 5, max: 1000 } as const;

/** What `src/handlers/transform.ts` (the Kinesis consumer) needs: the tables, Firehose and the quarantine. */
export interface TransformConfig {
  stage: string;
  aws: AwsConfig;
  tables: TablesConfig;
  deliveryStreams: { lake: string; warehouse: string };
  quarantine: QuarantineConfig;
  /** The most bytes of one packed Firehose record. */
  firehoseRecordMaxBytes: number;
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
    firehoseRecordMaxBytes:
      wholeNumber(
        env,
        ENV.FIREHOSE_RECORD_MAX_KB,
        FIREHOSE_RECORD_KB.default,
        FIREHOSE_RECORD_KB.min,
        FIREHOSE_RECORD_KB.max,
      ) * 1024,
  };
}
