/**
 * The service configuration the cost model prices, read from the files `serverless deploy` reads:
 * serverless.yml, resources/*.yml, resources/functions/*.yml and config/params.yml for a stage.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { CostError } from './errors.js';

/** The CloudFormation short forms (!Ref, !GetAtt, ...) the resource files use, read as plain values. */
export const CFN_YAML_SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  ['Ref', 'GetAtt', 'Sub', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'ImportValue'].flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => ({ [tag]: data }) }),
    ),
  ),
);

export interface FirehoseBuffer {
  stream: string;
  sizeMb: number;
  intervalSeconds: number;
  dynamicPartitioning: boolean;
  formatConversion: boolean;
}

export interface ServiceConfig {
  stage: string;
  /** Memory of each function, MB (the function's own, else the provider's). */
  memoryMb: Record<string, number>;
  kinesis: { mode: string; shards: number };
  firehose: FirehoseBuffer[];
  logRetentionDays: number;
  alarms: number;
  /** Resources or settings that put the data path in a VPC (a NAT gateway, a function's vpc). */
  vpc: string[];
  refreshPerMonth: number;
}

type Obj = Record<string, unknown>;

function load(path: string): Obj {
  try {
    return (yaml.load(readFileSync(path, 'utf8'), { schema: CFN_YAML_SCHEMA }) ?? {}) as Obj;
  } catch (cause) {
    throw new CostError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Walks every object in a value. */
function* objects(value: unknown): Generator<Obj> {
  if (Array.isArray(value)) for (const v of value) yield* objects(v);
  else if (value && typeof value === 'object') {
    yield value as Obj;
    for (const v of Object.values(value)) yield* objects(v);
  }
}

/** A stage's parameters: config/params.yml's `default`, then the stage's overrides. */
export function stageParams(root: string, stage: string): Obj {
  const params = load(join(root, 'config', 'params.yml')) as Record<string, Obj>;
  return { ...(params['default'] ?? {}), ...(params[stage] ?? {}) };
}

/** `${param:name}` and `${param:name, 'fallback'}` resolved against the stage's parameters. */
function resolve(value: unknown, params: Obj): unknown {
  if (typeof value !== 'string') return value;
  const m = /^\$\{param:(\w+)(?:,\s*'([^']*)')?\}$/.exec(value);
  if (!m) return value;
  return params[m[1]!] ?? m[2];
}

function num(value: unknown, params: Obj, what: string): number {
  const v = Number(resolve(value, params));
  if (!Number.isFinite(v)) throw new CostError(`${what} is not a number: ${JSON.stringify(value)}`);
  return v;
}

/** Runs a month of `rate(N minutes|hours|days)`. */
export function runsPerMonth(rate: string): number {
  const m = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(rate);
  if (!m) throw new CostError(`schedule ${JSON.stringify(rate)} is not rate(N minutes|hours|days)`);
  const minutes = Number(m[1]) * { minute: 1, hour: 60, day: 1440 }[m[2] as 'minute' | 'hour' | 'day'];
  return (730 * 60) / minutes;
}

export function readServiceConfig(root: string, stage: string): ServiceConfig {
  const params = stageParams(root, stage);
  const sls = load(join(root, 'serverless.yml'));
  const provider = (sls['provider'] ?? {}) as Obj;
  const providerMemory = num(provider['memorySize'] ?? 1024, params, 'provider.memorySize');
  const memoryMb: Record<string, number> = {};
  let refreshPerMonth = 0;
  const vpc: string[] = [];
  if (provider['vpc']) vpc.push('provider.vpc');
  const functionsDir = join(root, 'resources', 'functions');
  for (const file of readdirSync(functionsDir).filter((f) => f.endsWith('.yml'))) {
    const doc = load(join(functionsDir, file));
    for (const [name, fn] of Object.entries(doc) as [string, Obj][]) {
      memoryMb[name] =
        fn['memorySize'] === undefined ? providerMemory : num(fn['memorySize'], params, `${name}.memorySize`);
      if (fn['vpc']) vpc.push(`function ${name}: vpc`);
      for (const event of (fn['events'] ?? []) as Obj[]) {
        const schedule = event['schedule'] as Obj | undefined;
        // The refresh's runs are priced by the model; compaction's and the audit's are small beside the
        // data path and are estimated in docs/audit.md and docs/cost.md, not here.
        if (schedule?.['rate'] && name === 'refresh') {
          refreshPerMonth += runsPerMonth(String(resolve(schedule['rate'], params)));
        }
      }
    }
  }
  const firehose: FirehoseBuffer[] = [];
  let kinesis = { mode: 'ON_DEMAND', shards: 0 };
  let alarms = 0;
  const resourcesDir = join(root, 'resources');
  for (const file of readdirSync(resourcesDir).filter((f) => f.endsWith('.yml'))) {
    const doc = load(join(resourcesDir, file));
    const resources = ((doc['Resources'] ?? doc) as Record<string, Obj>) ?? {};
    for (const [name, resource] of Object.entries(resources)) {
      if (!resource || typeof resource !== 'object') continue;
      const type = resource['Type'];
      const props = (resource['Properties'] ?? {}) as Obj;
      if (type === 'AWS::CloudWatch::Alarm') alarms++;
      if (type === 'AWS::EC2::NatGateway') vpc.push(`${name}: AWS::EC2::NatGateway`);
      if (type === 'AWS::Kinesis::Stream') {
        const mode = String(((props['StreamModeDetails'] ?? {}) as Obj)['StreamMode'] ?? 'PROVISIONED');
        kinesis = {
          mode,
          shards: mode === 'PROVISIONED' ? num(props['ShardCount'] ?? 1, params, `${name}.ShardCount`) : 0,
        };
      }
      if (type === 'AWS::KinesisFirehose::DeliveryStream') {
        const all = [...objects(props)];
        // The first BufferingHints found is the destination's own (an S3 backup's come later).
        const hints = all.find((o) => o['BufferingHints'])?.['BufferingHints'] as Obj | undefined;
        firehose.push({
          stream: name,
          sizeMb: num(hints?.['SizeInMBs'] ?? 5, params, `${name}.SizeInMBs`),
          intervalSeconds: num(hints?.['IntervalInSeconds'] ?? 300, params, `${name}.IntervalInSeconds`),
          dynamicPartitioning: all.some(
            (o) => (o['DynamicPartitioningConfiguration'] as Obj | undefined)?.['Enabled'] === true,
          ),
          formatConversion: all.some((o) => {
            const conversion = o['DataFormatConversionConfiguration'] as Obj | undefined;
            return conversion !== undefined && conversion['Enabled'] !== false;
          }),
        });
      }
    }
  }
  return {
    stage,
    memoryMb,
    kinesis,
    firehose,
    logRetentionDays: num(params['logRetentionDays'] ?? 30, params, 'logRetentionDays'),
    alarms,
    vpc,
    refreshPerMonth,
  };
}
