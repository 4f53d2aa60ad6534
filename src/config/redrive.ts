/**
 * `ecomflow redrive --aws`'s configuration: what it redrives on AWS, from its flags, else the environment.
 * Credentials and region come as the AWS SDK finds them (`AWS_PROFILE`, `AWS_REGION`, ...), `--region`
 * first.
 */
import { type AwsConfig, awsConfig, ENV } from './aws.js';
import { ConfigError, type Env, read } from './env.js';

export interface AwsRedriveConfig {
  aws: AwsConfig;
  /** The transform function's DLQ (stack output TransformDLQUrl). */
  queueUrl: string;
  /** The stream its messages point into (stack output IngestStreamName). */
  streamName: string;
  /** The deployed transform function, which stores the records again. */
  functionName: string;
}

/** What the command line gave; each one overrides its variable. */
export interface AwsRedriveFlags {
  queueUrl?: string | undefined;
  streamName?: string | undefined;
  functionName?: string | undefined;
  region?: string | undefined;
}

/** Each setting with its flag and its variable, in the order a message names them. */
export const AWS_REDRIVE_SETTINGS = [
  { key: 'queueUrl', flag: '--queue-url', variable: ENV.ECOMFLOW_DLQ_URL, output: 'TransformDLQUrl' },
  { key: 'streamName', flag: '--stream', variable: ENV.ECOMFLOW_STREAM_NAME, output: 'IngestStreamName' },
  {
    key: 'functionName',
    flag: '--function',
    variable: ENV.ECOMFLOW_TRANSFORM_FUNCTION,
    output: 'the transform function, ecomflow-<stage>-transform',
  },
] as const;

/**
 * @throws ConfigError naming every setting that neither a flag nor a variable gives, or a queue URL that
 * is not one
 * @example loadAwsRedriveConfig({ queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', streamName: 's', functionName: 'f' }, {})
 */
export function loadAwsRedriveConfig(flags: AwsRedriveFlags, env: Env = process.env): AwsRedriveConfig {
  const values: Partial<Record<(typeof AWS_REDRIVE_SETTINGS)[number]['key'], string>> = {};
  const missing: (typeof AWS_REDRIVE_SETTINGS)[number][] = [];
  for (const setting of AWS_REDRIVE_SETTINGS) {
    const value = flags[setting.key]?.trim() || read(env, setting.variable);
    if (value) values[setting.key] = value;
    else missing.push(setting);
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `redrive --aws needs ${missing.map((s) => `${s.flag} (or ${s.variable}; ${s.output})`).join(', ')}`,
      missing.map((s) => s.variable),
    );
  }
  const queueUrl = values.queueUrl!;
  if (!/^https:\/\/[^\s/]+\/\d+\/[\w.-]+$/.test(queueUrl)) {
    throw new ConfigError(
      `--queue-url ${JSON.stringify(queueUrl)} is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)`,
      [ENV.ECOMFLOW_DLQ_URL],
    );
  }
  const aws = awsConfig(env);
  const region = flags.region?.trim();
  return {
    aws: region ? { ...aws, region } : aws,
    queueUrl,
    streamName: values.streamName!,
    functionName: values.functionName!,
  };
}
