import {
  type AwsConfig,
  awsConfig,
  ENV,
  type QuarantineConfig,
  quarantineConfig,
  type TablesConfig,
} from './aws.js';
import { ConfigError, type Env, read, requireVars, wholeNumber } from './env.js';

/** The lake's partition projection years when none are configured: config/params.yml's default. */
export const DEFAULT_LAKE_YEARS = { first: 2010, last: 2030 } as const;

/** `2010,2030` as the inclusive years it names. */
export function parseLakeYears(text: string | undefined): { first: number; last: number } {
  if (text === undefined) return { ...DEFAULT_LAKE_YEARS };
  const m = /^\s*(\d{4})\s*,\s*(\d{4})\s*$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new ConfigError(
      `${ENV.LAKE_PROJECTION_YEARS} must be "first,last" years, not ${JSON.stringify(text)}`,
      [ENV.LAKE_PROJECTION_YEARS],
    );
  }
  return { first: Number(m[1]), last: Number(m[2]) };
}

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
  /** The invoice years Athena's partition projection covers; a line outside is invisible there. */
  lakeYears: { first: number; last: number };
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
    lakeYears: parseLakeYears(read(env, ENV.LAKE_PROJECTION_YEARS)),
  };
}
