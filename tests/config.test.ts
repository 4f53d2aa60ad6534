import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadApiConfig } from '../src/config/api.js';
import {
  AUTH_MODES,
  readAuthMode,
  readSignInConfig,
  readUserPool,
  SIGN_IN_SCOPE,
} from '../src/config/auth.js';
import { loadBatchConfig, loadRemoteLoadConfig } from '../src/config/batch.js';
import { ConfigError, once } from '../src/config/env.js';
import { loadEraseConfig } from '../src/config/erase.js';
import {
  KINESIS_EVENT_SOURCE_MAX_BATCH_SIZE,
  loadPipelineConfig,
  readStackSettings,
  STACK_PROCESS_ENV,
  STACK_VARIABLES,
} from '../src/config/local.js';
import { AWS_REDRIVE_SETTINGS, loadAwsRedriveConfig } from '../src/config/redrive.js';
import { DEFAULT_REFRESH_TIMEOUT_SECONDS } from '../src/config/refresh.js';
import {
  DEFAULT_LAKE_YEARS,
  FIREHOSE_RECORD_KB,
  loadTransformConfig,
  parseLakeYears,
} from '../src/config/transform.js';

const FULL = {
  STAGE: 'dev',
  STREAM_NAME: 'ecomflow-dev-lines',
  INVOICES_TABLE: 'ecomflow-dev-invoices',
  CUSTOMERS_TABLE: 'ecomflow-dev-customers',
  LAKE_DELIVERY_STREAM: 'ecomflow-dev-lake',
  WAREHOUSE_DELIVERY_STREAM: 'ecomflow-dev-warehouse',
  QUARANTINE_BUCKET: 'ecomflow-dev-data',
};

describe('loadPipelineConfig', () => {
  it('reads every variable into a typed configuration with AWS endpoints by default', () => {
    expect(loadPipelineConfig({ ...FULL, AWS_REGION: 'eu-west-1' })).toEqual({
      stage: 'dev',
      aws: { region: 'eu-west-1', endpoints: {} },
      streamName: 'ecomflow-dev-lines',
      tables: { invoices: 'ecomflow-dev-invoices', customers: 'ecomflow-dev-customers' },
      deliveryStreams: { lake: 'ecomflow-dev-lake', warehouse: 'ecomflow-dev-warehouse' },
      quarantine: { bucket: 'ecomflow-dev-data', prefix: 'quarantine/' },
      // GET /status reads the audit from the quarantine's bucket unless AUDIT_BUCKET names another.
      auditBucket: 'ecomflow-dev-data',
      // No AUTH_DOMAIN: a deployment without Cognito, whose dashboard takes the API key.
      signIn: null,
      firehoseRecordMaxBytes: FIREHOSE_RECORD_KB.default * 1024,
      lakeYears: DEFAULT_LAKE_YEARS,
    });
  });

  it('names every missing variable in one error', () => {
    const { STREAM_NAME: _s, CUSTOMERS_TABLE: _c, ...partial } = FULL;
    const error = (() => {
      try {
        loadPipelineConfig({ ...partial, STAGE: '  ' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).missing).toEqual(['STAGE', 'STREAM_NAME', 'CUSTOMERS_TABLE']);
    expect((error as ConfigError).message).toBe(
      'ecomflow: missing environment variables STAGE, STREAM_NAME, CUSTOMERS_TABLE',
    );
  });

  it('asks each function only for what it uses', () => {
    const { LAKE_DELIVERY_STREAM: _l, WAREHOUSE_DELIVERY_STREAM: _w, ...apiOnly } = FULL;
    expect(loadApiConfig(apiOnly).streamName).toBe('ecomflow-dev-lines');
    expect(() => loadTransformConfig(apiOnly)).toThrow(
      'transform: missing environment variables LAKE_DELIVERY_STREAM, WAREHOUSE_DELIVERY_STREAM',
    );
    const { STREAM_NAME: _s, ...transformOnly } = FULL;
    expect(loadTransformConfig(transformOnly).deliveryStreams.lake).toBe('ecomflow-dev-lake');
  });

  it('takes endpoint overrides and normalises the quarantine prefix', () => {
    const config = loadPipelineConfig({
      ...FULL,
      QUARANTINE_PREFIX: '/rejects',
      ECOMFLOW_KINESIS_ENDPOINT: 'http://127.0.0.1:4567',
      ECOMFLOW_S3_ENDPOINT: 'http://localhost:4569',
    });
    expect(config.aws.endpoints).toEqual({ kinesis: 'http://127.0.0.1:4567', s3: 'http://localhost:4569' });
    expect(config.quarantine.prefix).toBe('rejects/');
    expect(loadPipelineConfig({ ...FULL, QUARANTINE_PREFIX: '' }).quarantine.prefix).toBe('');
  });

  it('refuses an endpoint override that is not a URL, naming it', () => {
    expect(() => loadPipelineConfig({ ...FULL, ECOMFLOW_DYNAMODB_ENDPOINT: 'localhost:8000' })).toThrow(
      'endpoint override must be an http(s) URL: ECOMFLOW_DYNAMODB_ENDPOINT="localhost:8000"',
    );
  });
});

describe('once', () => {
  it('computes on first use only', () => {
    let calls = 0;
    const get = once(() => ++calls);
    expect(calls).toBe(0);
    expect([get(), get()]).toEqual([1, 1]);
  });
});

describe('loadBatchConfig', () => {
  const BATCH = {
    STAGE: 'test',
    RAW_BUCKET: 'raw-bucket',
    LAKE_BUCKET: 'lake-bucket',
    LAKE_PREFIX: 'lake/invoice_lines',
    QUARANTINE_BUCKET: 'raw-bucket',
    QUARANTINE_PREFIX: 'quarantine/',
    REDSHIFT_HOST: 'ecomflow.123456789012.eu-west-1.redshift-serverless.amazonaws.com',
    REDSHIFT_DATABASE: 'dev',
    REDSHIFT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s',
    REDSHIFT_COPY_ROLE_ARN: 'arn:aws:iam::123456789012:role/copy',
  };

  it('reads the buckets, the Redshift target from its host, and the limits in MiB', () => {
    const config = loadBatchConfig({ ...BATCH, BATCH_RANGE_MB: '0.5' });
    expect(config.lake).toEqual({ bucket: 'lake-bucket', prefix: 'lake/invoice_lines/' });
    expect(config.redshift.target).toEqual({
      database: 'dev',
      secretArn: BATCH.REDSHIFT_SECRET_ARN,
      workgroupName: 'ecomflow',
      clusterIdentifier: undefined,
    });
    expect(config.limits).toEqual({
      rangeBytes: 512 * 1024,
      singlePassMaxBytes: 1536 * 1024 * 1024,
      gzipMaxBytes: 256 * 1024 * 1024,
    });
    const cluster = loadBatchConfig({
      ...BATCH,
      REDSHIFT_HOST: 'ecomflow.abc123.eu-west-1.redshift.amazonaws.com',
    });
    expect(cluster.redshift.target).toMatchObject({
      clusterIdentifier: 'ecomflow',
      workgroupName: undefined,
    });
  });

  it('names every missing variable, a host that is not Redshift, and a bad limit', () => {
    expect(() => loadBatchConfig({ STAGE: 'test' })).toThrow(
      /batch: missing environment variables RAW_BUCKET, LAKE_BUCKET, LAKE_PREFIX, QUARANTINE_BUCKET, REDSHIFT_HOST/,
    );
    expect(() => loadBatchConfig({ ...BATCH, REDSHIFT_HOST: 'db.example.com' })).toThrow(
      'REDSHIFT_HOST="db.example.com" is not a Redshift endpoint',
    );
    expect(() => loadBatchConfig({ ...BATCH, BATCH_GZIP_MAX_MB: 'lots' })).toThrow(
      'BATCH_GZIP_MAX_MB must be a positive number of MiB, not "lots"',
    );
  });
});

describe('loadRemoteLoadConfig', () => {
  it('takes --bucket first, then ECOMFLOW_RAW_BUCKET, and says how to give one', () => {
    expect(loadRemoteLoadConfig('given', { ECOMFLOW_RAW_BUCKET: 'env' }).rawBucket).toBe('given');
    expect(loadRemoteLoadConfig(undefined, { ECOMFLOW_RAW_BUCKET: 'env' }).rawBucket).toBe('env');
    expect(() => loadRemoteLoadConfig(undefined, {})).toThrow(ConfigError);
    expect(() => loadRemoteLoadConfig(' ', {})).toThrow(/pass --bucket <name> or set ECOMFLOW_RAW_BUCKET/);
  });
});

describe('loadAwsRedriveConfig', () => {
  const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecomflow-prod-transform-dlq';
  const ENV_VALUES = Object.fromEntries(
    AWS_REDRIVE_SETTINGS.map((s) => [s.variable, s.key === 'queueUrl' ? QUEUE : `env-${s.key}`]),
  );

  it('takes each flag first, then its variable, and --region over AWS_REGION', () => {
    // Act
    const fromEnv = loadAwsRedriveConfig({}, { ...ENV_VALUES, AWS_REGION: 'eu-west-1' });
    const fromFlags = loadAwsRedriveConfig(
      { streamName: 'flag-stream', functionName: 'flag-function', region: 'us-east-2' },
      { ...ENV_VALUES, AWS_REGION: 'eu-west-1' },
    );

    // Assess
    expect(fromEnv).toMatchObject({
      queueUrl: QUEUE,
      streamName: 'env-streamName',
      functionName: 'env-functionName',
      aws: { region: 'eu-west-1' },
    });
    expect(fromFlags).toMatchObject({
      queueUrl: QUEUE,
      streamName: 'flag-stream',
      functionName: 'flag-function',
    });
    expect(fromFlags.aws.region).toBe('us-east-2');
  });

  it('names every missing setting with its flag, variable and stack output at once', () => {
    // Act
    let error: unknown;
    try {
      loadAwsRedriveConfig({ functionName: 'f' }, {});
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).missing).toEqual(['ECOMFLOW_DLQ_URL', 'ECOMFLOW_STREAM_NAME']);
    expect((error as Error).message).toBe(
      'redrive --aws needs --queue-url (or ECOMFLOW_DLQ_URL; TransformDLQUrl), --stream (or ECOMFLOW_STREAM_NAME; IngestStreamName)',
    );
  });

  it('refuses a queue URL that is not one, naming it', () => {
    expect(() => loadAwsRedriveConfig({ queueUrl: 'ecomflow-prod-transform-dlq' }, ENV_VALUES)).toThrow(
      '--queue-url "ecomflow-prod-transform-dlq" is not an SQS queue URL',
    );
  });
});

describe('parseLakeYears', () => {
  it('reads "first,last" and refuses anything else, naming the variable', () => {
    expect(parseLakeYears('2010, 2030')).toEqual({ first: 2010, last: 2030 });
    expect(parseLakeYears(undefined)).toEqual(DEFAULT_LAKE_YEARS);
    expect(() => parseLakeYears('2030,2010')).toThrow(/LAKE_PROJECTION_YEARS must be "first,last" years/);
    expect(() => parseLakeYears('soon')).toThrow(ConfigError);
  });
});

describe('loadEraseConfig', () => {
  const ERASE_ENV = {
    INVOICES_TABLE: 'ecomflow-dev-invoices',
    CUSTOMERS_TABLE: 'ecomflow-dev-customers',
    LAKE_BUCKET: 'ecomflow-dev-lake',
    LAKE_PREFIX: 'lake/invoice_lines',
    ERASURE_RECORD_BUCKET: 'ecomflow-dev-data',
    ERASURE_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-dev-erasure-key',
    REDSHIFT_DATABASE: 'dev',
    REDSHIFT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift',
    REDSHIFT_HOST: 'ecomflow.123456789012.eu-west-1.redshift-serverless.amazonaws.com',
  };

  it('reads the stores, the key secret and the Redshift target', () => {
    const config = loadEraseConfig(ERASE_ENV);
    expect(config).toMatchObject({
      tables: { invoices: 'ecomflow-dev-invoices', customers: 'ecomflow-dev-customers' },
      lake: { bucket: 'ecomflow-dev-lake', prefix: 'lake/invoice_lines/' },
      recordBucket: 'ecomflow-dev-data',
      keySecretArn: ERASE_ENV.ERASURE_KEY_SECRET_ARN,
      redshift: { database: 'dev', workgroupName: 'ecomflow' },
      refreshTimeoutMs: DEFAULT_REFRESH_TIMEOUT_SECONDS * 1000,
    });
  });

  it('names every missing variable', () => {
    const { ERASURE_KEY_SECRET_ARN: _k, LAKE_BUCKET: _l, ...partial } = ERASE_ENV;
    expect(() => loadEraseConfig(partial)).toThrow(/LAKE_BUCKET, ERASURE_KEY_SECRET_ARN/);
  });
});

describe('the access configuration', () => {
  it('defaults the local gateway to the API key alone, and names ECOMFLOW_AUTH when it is neither mode', () => {
    expect(readAuthMode({})).toBe(AUTH_MODES.apiKey);
    expect(readAuthMode({ ECOMFLOW_AUTH: 'cognito' })).toBe(AUTH_MODES.cognito);
    expect(() => readAuthMode({ ECOMFLOW_AUTH: 'oauth' })).toThrow(
      /ECOMFLOW_AUTH must be apiKey or cognito, not "oauth"/,
    );
  });

  it("reads the user pool's id and region from --pool or ECOMFLOW_USER_POOL_ID", () => {
    expect(readUserPool(undefined, { ECOMFLOW_USER_POOL_ID: 'eu-west-1_AbC123' })).toEqual({
      id: 'eu-west-1_AbC123',
      region: 'eu-west-1',
    });
    expect(readUserPool('us-east-2_Xy9', { ECOMFLOW_USER_POOL_ID: 'eu-west-1_AbC123' }).region).toBe(
      'us-east-2',
    );
    expect(() => readUserPool(undefined, {})).toThrow(/pass --pool <id> or set ECOMFLOW_USER_POOL_ID/);
    expect(() => readUserPool('pool', {})).toThrow(/user pool id "pool" is not <region>_<id>/);
  });

  it('reads the sign-in configuration when the API has Cognito, and nothing without it', () => {
    expect(readSignInConfig({})).toBeNull();
    expect(
      readSignInConfig({
        AUTH_DOMAIN: 'd.auth.eu-west-1.amazoncognito.com',
        AUTH_CLIENT_ID: 'c',
        AUTH_REDIRECT_URI: 'https://a/',
      }),
    ).toEqual({
      domain: 'd.auth.eu-west-1.amazoncognito.com',
      clientId: 'c',
      redirectUri: 'https://a/',
      scope: SIGN_IN_SCOPE,
    });
    expect(() => readSignInConfig({ AUTH_DOMAIN: 'd' })).toThrow(/missing AUTH_CLIENT_ID, AUTH_REDIRECT_URI/);
  });
});

describe('readStackSettings: the event source batch size', () => {
  it("is the mapping's own (undefined) unless set, a whole number within Kinesis's 1 to 10,000 when set", () => {
    const name = STACK_VARIABLES.streamBatchSize;
    expect(readStackSettings({}).streamBatchSize).toBeUndefined();
    expect(readStackSettings({ [name]: '10' }).streamBatchSize).toBe(10);
    expect(readStackSettings({ [name]: String(KINESIS_EVENT_SOURCE_MAX_BATCH_SIZE) }).streamBatchSize).toBe(
      KINESIS_EVENT_SOURCE_MAX_BATCH_SIZE,
    );
    for (const bad of ['0', '10001', '2.5', 'many']) {
      expect(() => readStackSettings({ [name]: bad })).toThrow(
        new ConfigError(`${name} must be a whole number from 1 to 10000, not "${bad}"`, [name]),
      );
    }
  });
});

describe('STACK_PROCESS_ENV', () => {
  it('is what `npm start` starts the stack with', async () => {
    const { scripts } = JSON.parse(
      await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8'),
    ) as {
      scripts: Record<string, string>;
    };
    const assignments = Object.entries(STACK_PROCESS_ENV).map(([name, value]) => `${name}=${value}`);
    expect(scripts['start']).toBe(`${assignments.join(' ')} node bin/ecomflow.js up`);
  });
});
