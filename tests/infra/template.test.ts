// biome-ignore-all lint/suspicious/noTemplateCurlyInString: '${X.Arn}' here is CloudFormation Fn::Sub text, not a template literal.
/**
 * The packaged CloudFormation template: its resources and properties, and every IAM statement, checked
 * against what each function and delivery stream needs. `serverless package` runs once, offline.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { GENERATED_PATH, renderRecordContract } from '../../scripts/generate-resources.js';
import { tableDefinition } from '../../src/adapters/table-definitions.js';
import { LAKE_RAW_TABLE } from '../../src/analytics/models.js';
import { ROUTES as API_ROUTES, isPrivate } from '../../src/api/routes.js';
import {
  needsApiKey,
  RESOURCE_SERVER,
  ROLE_GROUPS,
  ROLE_SCOPES,
  SCOPES,
  type Scope,
  scopeName,
} from '../../src/api/scopes.js';
import { LOADS_PREFIX } from '../../src/batch/aws/records.js';
import { AUTH_MODES, type AuthMode, SIGN_IN_SCOPE, SIGN_IN_VARIABLES } from '../../src/config/auth.js';
import { COMPACTION_DEFAULTS, loadCompactConfig } from '../../src/config/compact.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import { DEFAULT_LAKE_YEARS, parseLakeYears } from '../../src/config/transform.js';
import { TABLES } from '../../src/core/dynamo-items.js';
import { ERASURE_KEY_MIN_BYTES } from '../../src/core/erasure.js';
import {
  QUARANTINE_COLUMNS,
  QUARANTINE_PARTITIONS,
  QUARANTINE_SOURCES,
  QUARANTINE_TABLE,
  quarantineKey,
} from '../../src/core/quarantine.js';
import { COLUMN_NAMES, glueColumns } from '../../src/core/schema.js';
import { CFN_YAML_SCHEMA } from '../../src/cost/service-config.js';
import { DASHBOARD_ASSETS } from '../../src/dashboard/assets.js';
import { DASHBOARD_SNAPSHOT_KEY } from '../../src/dashboard/contract.js';
import { AUDIT_METRIC, metricLine } from '../../src/handlers/audit.js';
import { GATEWAY_ERRORS } from '../../src/local/gateway.js';
import { TRANSFORM_EVENT_SOURCE } from '../../src/stream/event-source.js';
import {
  actionMap,
  apiRoutes,
  arnMatchesHost,
  at,
  describe as describeValue,
  type Json,
  type JsonObject,
  normalise,
  packageTemplate,
  type Resource,
  roleStatements,
  subReferences,
  type Template,
  walk,
} from './cfn.js';
import { bundledSourcesOf, sdkActionsOf } from './sdk-calls.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const STAGE = 'test';

/** config/params.yml, which `serverless package --stage test` resolved: a stage's value, else the default. */
const PARAMS = yaml.load(readFileSync(join(REPO, 'config', 'params.yml'), 'utf8')) as Record<
  string,
  Record<string, unknown>
>;
function param(name: string): unknown {
  const value = PARAMS[STAGE]?.[name] ?? PARAMS['default']?.[name];
  if (value === undefined) throw new Error(`no parameter ${name} for stage ${STAGE} in config/params.yml`);
  return value;
}
/** The one workgroup or cluster the Data API roles may run statements on. */
const REDSHIFT_ARN = String(param('redshiftArn'));

let template: Template;
let packageDir: string;

beforeAll(() => {
  ({ template, dir: packageDir } = packageTemplate(REPO, STAGE));
}, 180_000);

afterAll(() => {
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
});

/** The resource with this logical id; fails naming it when absent. */
function resource(id: string): Resource {
  const r = template.Resources[id];
  if (!r) throw new Error(`no resource ${id} in the template`);
  return r;
}

function props(id: string): JsonObject {
  const p = resource(id).Properties;
  if (!p) throw new Error(`resource ${id} has no Properties`);
  return p;
}

function ofType(type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Attributes `Fn::GetAtt` may read, per resource type used in this stack. */
const GETATT: Record<string, readonly string[]> = {
  'AWS::ApiGateway::ApiKey': ['APIKeyId'],
  'AWS::ApiGateway::Authorizer': ['AuthorizerId'],
  'AWS::ApiGateway::Deployment': ['DeploymentId'],
  'AWS::ApiGateway::GatewayResponse': ['Id'],
  'AWS::ApiGateway::Method': [],
  'AWS::ApiGateway::Resource': ['ResourceId'],
  'AWS::ApiGateway::RestApi': ['RestApiId', 'RootResourceId'],
  'AWS::ApiGateway::UsagePlan': ['Id'],
  'AWS::ApiGateway::UsagePlanKey': ['Id'],
  'AWS::Athena::NamedQuery': ['NamedQueryId'],
  'AWS::Athena::WorkGroup': ['CreationTime'],
  'AWS::CloudWatch::Alarm': ['Arn'],
  'AWS::Cognito::UserPool': ['Arn', 'ProviderName', 'ProviderURL', 'UserPoolId'],
  'AWS::Cognito::UserPoolClient': ['ClientId', 'ClientSecret', 'Name'],
  'AWS::Cognito::UserPoolDomain': ['CloudFrontDistribution'],
  'AWS::Cognito::UserPoolGroup': [],
  'AWS::Cognito::UserPoolResourceServer': [],
  'AWS::DynamoDB::Table': ['Arn', 'StreamArn'],
  'AWS::Events::Rule': ['Arn'],
  'AWS::Glue::Database': [],
  'AWS::Glue::Table': [],
  'AWS::IAM::Role': ['Arn', 'RoleId'],
  'AWS::Kinesis::Stream': ['Arn'],
  'AWS::KinesisFirehose::DeliveryStream': ['Arn'],
  'AWS::Lambda::EventSourceMapping': ['Id'],
  'AWS::Lambda::Function': ['Arn'],
  'AWS::Lambda::Permission': [],
  'AWS::Logs::LogGroup': ['Arn'],
  'AWS::Logs::LogStream': [],
  'AWS::S3::Bucket': ['Arn', 'DomainName', 'RegionalDomainName'],
  'AWS::S3::BucketPolicy': [],
  'AWS::SNS::Topic': ['TopicArn', 'TopicName'],
  'AWS::SQS::Queue': ['Arn', 'QueueName', 'QueueUrl'],
  'AWS::SecretsManager::Secret': ['Id'],
  'AWS::Lambda::EventInvokeConfig': [],
  'AWS::StepFunctions::StateMachine': ['Arn', 'Name'],
};
const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

describe('the template is well formed', () => {
  it('uses only resource types this stack knows', () => {
    const unknown = Object.entries(template.Resources)
      .filter(([, r]) => !(r.Type in GETATT))
      .map(([id, r]) => `${id}: ${r.Type}`);
    expect(unknown).toEqual([]);
  });

  it('resolves every Ref, Fn::GetAtt, Fn::Sub reference and DependsOn to a resource or parameter', () => {
    const ids = new Set([...Object.keys(template.Resources), ...Object.keys(template.Parameters ?? {})]);
    const broken: string[] = [];
    const checkGetAtt = (target: string, attr: string, where: string) => {
      const type = template.Resources[target]?.Type;
      if (!type) broken.push(`${where}: GetAtt ${target}.${attr}: no such resource`);
      else if (!GETATT[type]?.includes(attr))
        broken.push(`${where}: GetAtt ${target}.${attr}: ${type} has no ${attr}`);
    };
    for (const [id, r] of Object.entries(template.Resources)) {
      for (const dep of [r.DependsOn ?? []].flat()) if (!ids.has(dep)) broken.push(`${id}: DependsOn ${dep}`);
      for (const { key, value } of walk(r as unknown as Json)) {
        if (key === 'Ref' && typeof value === 'string' && !ids.has(value) && !PSEUDO.has(value)) {
          broken.push(`${id}: Ref ${value}`);
        }
        if (key === 'Fn::GetAtt') {
          const [target, attr] = Array.isArray(value) ? value.map(String) : String(value).split('.');
          checkGetAtt(target ?? '', attr ?? '', id);
        }
        if (key === 'Fn::Sub') {
          const text = Array.isArray(value) ? String(value[0]) : String(value);
          for (const ref of subReferences(text)) {
            if (PSEUDO.has(ref)) continue;
            const [target = '', attr] = ref.split('.');
            if (attr) checkGetAtt(target, attr, id);
            else if (!ids.has(target)) broken.push(`${id}: Sub \${${ref}}`);
          }
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('leaves no unresolved Serverless variable behind', () => {
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/\$\{(self|param|opt|sls|file|env|aws|cf|ssm|s3):/);
  });
});

describe('functions', () => {
  const FUNCTIONS = {
    ApiLambdaFunction: {
      handler: 'src/handlers/api.handler',
      role: 'ApiRole',
      env: [
        'STAGE',
        'STREAM_NAME',
        'INVOICES_TABLE',
        'CUSTOMERS_TABLE',
        'QUARANTINE_BUCKET',
        'QUARANTINE_PREFIX',
        'AUDIT_BUCKET',
        'ERASE_FUNCTION_NAME',
        ...Object.values(SIGN_IN_VARIABLES),
      ],
    },
    TransformLambdaFunction: {
      handler: 'src/handlers/transform.handler',
      role: 'TransformRole',
      env: [
        'STAGE',
        'INVOICES_TABLE',
        'CUSTOMERS_TABLE',
        'LAKE_DELIVERY_STREAM',
        'WAREHOUSE_DELIVERY_STREAM',
        'QUARANTINE_BUCKET',
        'QUARANTINE_PREFIX',
        'LAKE_PROJECTION_YEARS',
      ],
    },
    BatchLambdaFunction: {
      handler: 'src/handlers/batch.handler',
      role: 'BatchRole',
      env: [
        'STAGE',
        'RAW_BUCKET',
        'LAKE_BUCKET',
        'LAKE_PREFIX',
        'QUARANTINE_BUCKET',
        'QUARANTINE_PREFIX',
        'REDSHIFT_HOST',
        'REDSHIFT_DATABASE',
        'REDSHIFT_SECRET_ARN',
        'REDSHIFT_COPY_ROLE_ARN',
        'BATCH_RANGE_MB',
        'BATCH_SINGLE_PASS_MAX_MB',
        'BATCH_GZIP_MAX_MB',
      ],
    },
    RefreshLambdaFunction: {
      handler: 'src/handlers/refresh.handler',
      role: 'RefreshRole',
      env: [
        'STAGE',
        'REDSHIFT_HOST',
        'REDSHIFT_DATABASE',
        'REDSHIFT_SECRET_ARN',
        'REFRESH_TIMEOUT_SECONDS',
        'CUSTOMERS_TABLE',
        'DASHBOARD_BUCKET',
      ],
    },
    AuditLambdaFunction: {
      handler: 'src/handlers/audit.handler',
      role: 'AuditRole',
      env: [
        'STAGE',
        'ATHENA_WORKGROUP',
        'GLUE_DATABASE',
        'INVOICES_TABLE',
        'DLQ_URL',
        'AUDIT_BUCKET',
        'REDSHIFT_HOST',
        'REDSHIFT_DATABASE',
        'REDSHIFT_SECRET_ARN',
      ],
    },
    EraseLambdaFunction: {
      handler: 'src/handlers/erase.handler',
      role: 'EraseRole',
      env: [
        'STAGE',
        'INVOICES_TABLE',
        'CUSTOMERS_TABLE',
        'LAKE_BUCKET',
        'LAKE_PREFIX',
        'LAKE_PROJECTION_YEARS',
        'ERASURE_RECORD_BUCKET',
        'ERASURE_KEY_SECRET_ARN',
        'REDSHIFT_HOST',
        'REDSHIFT_DATABASE',
        'REDSHIFT_SECRET_ARN',
        'REFRESH_TIMEOUT_SECONDS',
      ],
    },
    PreTokenLambdaFunction: {
      handler: 'src/handlers/pre-token.handler',
      role: 'PreTokenRole',
      env: ['STAGE'],
    },
    CompactLambdaFunction: {
      handler: 'src/handlers/compact.handler',
      role: 'CompactRole',
      env: [
        'STAGE',
        'LAKE_BUCKET',
        'LAKE_PREFIX',
        'LAKE_PROJECTION_YEARS',
        'COMPACT_MIN_AGE_SECONDS',
        'COMPACT_TARGET_MB',
      ],
    },
  } as const;

  it('are exactly the functions above, on nodejs22.x, each with its own role', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    for (const [id, f] of functions) {
      const expected = FUNCTIONS[id as keyof typeof FUNCTIONS];
      expect({ id, runtime: f.Properties?.['Runtime'] }).toEqual({ id, runtime: 'nodejs22.x' });
      expect(f.Properties?.['Handler']).toBe(expected.handler);
      expect(f.Properties?.['Role']).toEqual({ 'Fn::GetAtt': [expected.role, 'Arn'] });
    }
    expect(template.Resources['IamRoleLambdaExecution']).toBeUndefined();
  });

  it('get the environment their configuration reads, and nothing else but NODE_OPTIONS', () => {
    for (const [id, expected] of Object.entries(FUNCTIONS)) {
      const vars = at(props(id), 'Environment', 'Variables');
      expect(Object.keys(vars as JsonObject).sort()).toEqual([...expected.env, 'NODE_OPTIONS'].sort());
    }
    const api = at(props('ApiLambdaFunction'), 'Environment', 'Variables');
    expect(at(api, 'STREAM_NAME')).toEqual({ Ref: 'IngestStream' });
    expect(at(api, 'QUARANTINE_BUCKET')).toEqual({ Ref: 'RawBucket' });
    expect(at(api, 'QUARANTINE_PREFIX')).toBe('quarantine/');
    expect(at(api, 'STAGE')).toBe(STAGE);
    const transform = at(props('TransformLambdaFunction'), 'Environment', 'Variables');
    expect(at(transform, 'LAKE_DELIVERY_STREAM')).toEqual({ Ref: 'LakeDeliveryStream' });
    expect(at(transform, 'WAREHOUSE_DELIVERY_STREAM')).toEqual({ Ref: 'WarehouseDeliveryStream' });
    expect(at(transform, 'INVOICES_TABLE')).toEqual({ Ref: 'InvoicesTable' });
    expect(at(transform, 'CUSTOMERS_TABLE')).toEqual({ Ref: 'CustomersTable' });
    // The transformer quarantines the years the lake table's projection cannot show: the same parameter.
    expect(at(transform, 'LAKE_PROJECTION_YEARS')).toBe(param('lakeProjectionYears'));
    expect(parseLakeYears(String(PARAMS['default']?.['lakeProjectionYears']))).toEqual(DEFAULT_LAKE_YEARS);
    const batch = at(props('BatchLambdaFunction'), 'Environment', 'Variables');
    expect(batch).toMatchObject({
      RAW_BUCKET: { Ref: 'RawBucket' },
      LAKE_BUCKET: { Ref: 'LakeBucket' },
      LAKE_PREFIX: 'lake/invoice_lines/',
      QUARANTINE_BUCKET: { Ref: 'RawBucket' },
      QUARANTINE_PREFIX: 'quarantine/',
      REDSHIFT_HOST: 'ecomflow-test.123456789012.eu-west-1.redshift-serverless.amazonaws.com',
      REDSHIFT_COPY_ROLE_ARN: { 'Fn::GetAtt': ['LakeCopyRole', 'Arn'] },
      BATCH_RANGE_MB: '128',
      BATCH_SINGLE_PASS_MAX_MB: '1536',
      BATCH_GZIP_MAX_MB: '256',
    });
    expect(at(props('RefreshLambdaFunction'), 'Environment', 'Variables')).toMatchObject({
      REDSHIFT_HOST: 'ecomflow-test.123456789012.eu-west-1.redshift-serverless.amazonaws.com',
      REDSHIFT_DATABASE: 'dev',
      REDSHIFT_SECRET_ARN:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
      REFRESH_TIMEOUT_SECONDS: '840',
      CUSTOMERS_TABLE: { Ref: 'CustomersTable' },
      // The snapshot goes where the API reads the audit result and the snapshot from.
      DASHBOARD_BUCKET: at(props('ApiLambdaFunction'), 'Environment', 'Variables', 'AUDIT_BUCKET'),
    });
    expect(at(props('RefreshLambdaFunction'), 'Environment', 'Variables', 'DASHBOARD_BUCKET')).toEqual({
      Ref: 'RawBucket',
    });
    // Compaction lists the days partition projection covers, in the lake table's prefix.
    const compact = at(props('CompactLambdaFunction'), 'Environment', 'Variables');
    expect(compact).toMatchObject({ LAKE_BUCKET: { Ref: 'LakeBucket' }, LAKE_PREFIX: 'lake/invoice_lines/' });
    expect(at(compact, 'LAKE_PROJECTION_YEARS')).toBe(param('lakeProjectionYears'));
    // The literal values, as the function reads them (references stand in as their logical ids).
    const literal = Object.fromEntries(
      Object.entries(compact as JsonObject).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : describeValue(v),
      ]),
    );
    expect(loadCompactConfig({ ...literal, LAKE_PROJECTION_YEARS: '2010,2030' })).toMatchObject({
      lake: { prefix: LOCAL_RESOURCES.lakePrefix },
      minAgeMs: COMPACTION_DEFAULTS.minAgeMs,
      targetBytes: COMPACTION_DEFAULTS.targetBytes,
    });
  });

  it('are bundled by esbuild into one ESM file each', () => {
    const artifact = (id: string) => describeValue(at(props(id), 'Code', 'S3Key'));
    expect(artifact('ApiLambdaFunction')).toMatch(/\/api\.zip$/);
    expect(artifact('TransformLambdaFunction')).toMatch(/\/transform\.zip$/);
    // The zip's central directory lists entry names in plain text.
    expect(readFileSync(join(packageDir, 'api.zip')).includes('src/handlers/api.mjs')).toBe(true);
    expect(readFileSync(join(packageDir, 'transform.zip')).includes('src/handlers/transform.mjs')).toBe(true);
    expect(readFileSync(join(packageDir, 'batch.zip')).includes('src/handlers/batch.mjs')).toBe(true);
    const refresh = readFileSync(join(packageDir, 'refresh.zip'));
    expect(refresh.includes('src/handlers/refresh.mjs')).toBe(true);
    // The refresh reads the warehouse SQL at run time.
    expect(refresh.includes('warehouse/marts/daily_revenue.sql')).toBe(true);
    // The API serves the dashboard's files and chart.js's UMD build from beside its bundle.
    const api = readFileSync(join(packageDir, 'api.zip'));
    for (const asset of Object.values(DASHBOARD_ASSETS)) expect(api.includes(asset.path)).toBe(true);
  });

  it('keep the CLI out of the batch bundle: no clean-to-dir, no Parquet worker thread', async () => {
    // Prepare / Act
    const sources = await bundledSourcesOf(REPO, 'src/handlers/batch.ts');
    // Assess: the bundle holds the lake writer it needs, and none of the CLI's `ecomflow clean` code.
    expect(sources).toContain('src/lake/lake-writer.ts');
    expect(sources).not.toContain('src/batch/clean-to-dir.ts');
    expect(sources).not.toContain('src/lake/threaded-parquet.ts');
    expect(sources).not.toContain('src/worker-threads.ts');
    expect(sources.filter((file) => file.startsWith('src/cli/'))).toEqual([]);
  });
});

describe('warehouse refresh', () => {
  it('runs the refresh every 15 minutes, compaction and the audit every hour, and nothing else on a schedule', () => {
    const scheduled = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties?.['ScheduleExpression']);
    expect(scheduled.map(([id]) => id).sort()).toEqual([
      'AuditEventsRuleSchedule1',
      'CompactEventsRuleSchedule1',
      'RefreshEventsRuleSchedule1',
    ]);
    expect(props('AuditEventsRuleSchedule1')).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['AuditLambdaFunction', 'Arn'] } }],
    });
    expect(props('CompactEventsRuleSchedule1')).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['CompactLambdaFunction', 'Arn'] } }],
    });
    expect(props('RefreshEventsRuleSchedule1')).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['RefreshLambdaFunction', 'Arn'] } }],
    });
    const permissions = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties?.['Principal'] === 'events.amazonaws.com',
    );
    const invoked = (fn: string) => ({
      FunctionName: { 'Fn::GetAtt': [`${fn}LambdaFunction`, 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [`${fn}EventsRuleSchedule1`, 'Arn'] },
    });
    expect(permissions.map(([, p]) => p.Properties)).toEqual(
      expect.arrayContaining([invoked('Refresh'), invoked('Compact'), invoked('Audit')]),
    );
    expect(permissions).toHaveLength(3);
  });

  it('runs one compaction at a time, for up to 15 minutes', () => {
    expect(props('CompactLambdaFunction')).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 900 });
  });

  it('runs one refresh at a time, for up to 15 minutes', () => {
    expect(props('RefreshLambdaFunction')).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 900 });
  });
});

describe('customer erasure', () => {
  it('runs one erasure at a time, for up to 15 minutes, retried twice by Lambda and queued up to 6 hours', () => {
    expect(props('EraseLambdaFunction')).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 900 });
    const [config] = ofType('AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties ?? {});
    expect(config).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600 });
    expect(describeValue(at(config!, 'FunctionName'))).toBe('EraseLambdaFunction');
  });

  it('is started by the API, which is given its name and may invoke only it', () => {
    const api = at(props('ApiLambdaFunction'), 'Environment', 'Variables');
    expect(at(api, 'ERASE_FUNCTION_NAME')).toEqual({ Ref: 'EraseLambdaFunction' });
    expect(actionMap(resource('ApiRole'))['lambda:InvokeFunction']).toEqual(['EraseLambdaFunction.Arn']);
  });

  it('keys the customer hash with a generated secret of at least the key length, kept when the stack goes', () => {
    const secret = resource('ErasureKeySecret');
    expect(secret).toMatchObject({ Type: 'AWS::SecretsManager::Secret', DeletionPolicy: 'Retain' });
    const generated = at(secret.Properties ?? {}, 'GenerateSecretString') as JsonObject;
    expect(Number(generated['PasswordLength'])).toBeGreaterThanOrEqual(ERASURE_KEY_MIN_BYTES);
    expect(generated['ExcludePunctuation']).toBe(true);
    const erase = at(props('EraseLambdaFunction'), 'Environment', 'Variables');
    expect(at(erase, 'ERASURE_KEY_SECRET_ARN')).toEqual({ Ref: 'ErasureKeySecret' });
    expect(at(erase, 'ERASURE_RECORD_BUCKET')).toEqual({ Ref: 'RawBucket' });
  });

  it('ships the refresh SQL beside the bundle, for the marts rebuilt after the re-keying', () => {
    const file = yaml.load(readFileSync(join(REPO, 'resources', 'functions', 'erase.yml'), 'utf8'), {
      schema: CFN_YAML_SCHEMA,
    }) as { erase: { package: { patterns: string[] } } };
    expect(file.erase.package.patterns).toContain('warehouse/**/*.sql');
  });
});

describe('Athena', () => {
  const sqlFiles = (dir: string) => readdirSync(join(REPO, 'glue', dir)).filter((f) => f.endsWith('.sql'));

  it('has a workgroup on engine 3 writing results to the raw bucket', () => {
    expect(at(props('AthenaWorkGroup'), 'WorkGroupConfiguration')).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: { OutputLocation: { 'Fn::Sub': 's3://${RawBucket}/athena-results/' } },
    });
  });

  it('has a Glue view per file in glue/views, in the Glue database', () => {
    const views = ofType('AWS::Glue::Table').filter(
      ([, t]) => at(t.Properties ?? {}, 'TableInput', 'TableType') === 'VIRTUAL_VIEW',
    );
    expect(views.map(([, t]) => String(at(t.Properties ?? {}, 'TableInput', 'Name'))).sort()).toEqual(
      sqlFiles('views')
        .map((f) => f.replace(/\.sql$/, ''))
        .sort(),
    );
    for (const [, t] of views) expect(t.Properties?.['DatabaseName']).toEqual({ Ref: 'GlueDatabase' });
  });

  it('has a named query per file in glue/queries, in the workgroup', () => {
    const queries = ofType('AWS::Athena::NamedQuery');
    expect(queries).toHaveLength(sqlFiles('queries').length);
    for (const [, q] of queries) {
      expect(q.Properties).toMatchObject({
        Database: { Ref: 'GlueDatabase' },
        WorkGroup: { Ref: 'AthenaWorkGroup' },
      });
    }
  });
});

describe('batch load', () => {
  const definition = JSON.parse(
    readFileSync(join(REPO, 'resources', 'batch-state-machine.json'), 'utf8'),
  ) as { States: Record<string, JsonObject> };
  /** Every state, the Map's inner ones included. */
  const states = (): [string, JsonObject][] => [
    ...Object.entries(definition.States),
    ...Object.entries(
      (at(definition.States['CleanRanges'] ?? {}, 'ItemProcessor', 'States') as Record<string, JsonObject>) ??
        {},
    ),
  ];

  it('starts the state machine on objects created under incoming/ in the raw bucket, and nothing else', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties?.['EventPattern']);
    expect(rules.map(([id]) => id)).toEqual(['BatchUploadRule']);
    expect(props('BatchUploadRule')['EventPattern']).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [{ Ref: 'RawBucket' }] }, object: { key: [{ prefix: 'incoming/' }] } },
    });
    expect(props('BatchUploadRule')['Targets']).toEqual([
      {
        Id: 'batch-load',
        Arn: { Ref: 'BatchStateMachine' },
        RoleArn: { 'Fn::GetAtt': ['BatchTriggerRole', 'Arn'] },
      },
    ]);
    // The bucket sends its events to EventBridge (no S3 -> Lambda notification to loop on).
    expect(at(props('RawBucket'), 'NotificationConfiguration')).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
  });

  it('runs resources/batch-state-machine.json, every task on the batch function', () => {
    const machine = props('BatchStateMachine');
    expect(machine['Definition']).toEqual(definition);
    expect(machine['DefinitionSubstitutions']).toEqual({
      BatchFunctionArn: { 'Fn::GetAtt': ['BatchLambdaFunction', 'Arn'] },
    });
    expect(machine['StateMachineType']).toBe('STANDARD');
    const tasks = states().filter(([, s]) => s['Type'] === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      ['CleanRange', 'Load', 'Plan', 'RecordFailure', 'RecordPlanFailure'].sort(),
    );
    for (const [, task] of tasks) expect(task['Resource']).toBe('${BatchFunctionArn}');
  });

  it('fans the ranges out with a Map, and records every failure before failing', () => {
    const map = definition.States['CleanRanges']!;
    // Not `ResultPath: null` (drop the output): Serverless strips nulls from the template, and the ranges'
    // outputs would then replace the state the Load step reads its source id from.
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.ranges',
      MaxConcurrency: 40,
      ResultPath: '$.cleaned',
    });
    for (const name of ['Plan', 'CleanRanges', 'Load']) {
      const [catcher] = (definition.States[name]?.['Catch'] ?? []) as JsonObject[];
      expect(catcher).toMatchObject({ ErrorEquals: ['States.ALL'], ResultPath: '$.error' });
      expect(String(catcher?.['Next'])).toMatch(/^Record(Plan)?Failure$/);
    }
    expect(definition.States['RecordFailure']?.['Next']).toBe('Failed');
    expect(definition.States['Failed']).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error' });
  });

  it('never retries what cannot pass (bad input, a missing plan), and retries the rest a few times', () => {
    const permanent = [
      'UnloadableObjectError',
      'HeaderError',
      'EncodingError',
      'InputError',
      'LoadStateError',
    ];
    for (const [name, task] of states().filter(([n]) => ['Plan', 'CleanRange', 'Load'].includes(n))) {
      const retriers = task['Retry'] as JsonObject[];
      const never = retriers
        .filter((r) => r['MaxAttempts'] === 0)
        .flatMap((r) => r['ErrorEquals'] as string[]);
      expect({ name, never: never.filter((e) => permanent.includes(e)).length > 0 }).toEqual({
        name,
        never: true,
      });
      const last = retriers.at(-1);
      expect(last?.['ErrorEquals']).toEqual(['States.ALL']);
      expect(Number(last?.['MaxAttempts'])).toBeGreaterThan(0);
    }
  });

  it('gives the function 15 minutes and a full vCPU', () => {
    expect(props('BatchLambdaFunction')).toMatchObject({ Timeout: 900, MemorySize: 2048 });
  });

  it('has a role Redshift (provisioned or serverless) assumes to COPY, exported for the namespace', () => {
    expect(at(props('LakeCopyRole'), 'AssumeRolePolicyDocument', 'Statement')).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: ['redshift.amazonaws.com', 'redshift-serverless.amazonaws.com'] },
        Action: 'sts:AssumeRole',
      },
    ]);
    expect(template.Outputs?.['LakeCopyRoleArn']).toEqual({
      Value: { 'Fn::GetAtt': ['LakeCopyRole', 'Arn'] },
    });
  });

  it('alarms on a failed load', () => {
    expect(props('BatchLoadFailedAlarm')).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'BatchStateMachine' } }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });
});

describe('stream and transformer', () => {
  it('has an on-demand Kinesis stream encrypted with the AWS managed key', () => {
    const p = props('IngestStream');
    expect(at(p, 'StreamModeDetails')).toEqual({ StreamMode: 'ON_DEMAND' });
    expect(at(p, 'StreamEncryption')).toEqual({ EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    expect(p['ShardCount']).toBeUndefined();
  });

  it('maps the stream to transform with partial failures, bisection, bounded retries and a DLQ', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0] ?? [];
    expect(mapping?.Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': ['IngestStream', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['TransformLambdaFunction', 'Arn'] },
      Enabled: true,
      StartingPosition: TRANSFORM_EVENT_SOURCE.startingPosition,
      BatchSize: TRANSFORM_EVENT_SOURCE.batchSize,
      MaximumBatchingWindowInSeconds: TRANSFORM_EVENT_SOURCE.batchWindowSeconds,
      FunctionResponseTypes: [TRANSFORM_EVENT_SOURCE.functionResponseType],
      BisectBatchOnFunctionError: TRANSFORM_EVENT_SOURCE.bisectBatchOnFunctionError,
      MaximumRetryAttempts: TRANSFORM_EVENT_SOURCE.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: TRANSFORM_EVENT_SOURCE.maximumRecordAgeInSeconds,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['TransformDLQ', 'Arn'] } } },
    });
    // The role must exist, with its permissions, before Lambda validates the mapping.
    expect([mapping?.DependsOn].flat()).toContain('TransformRole');
  });

  it('keeps failed batches 14 days in an encrypted queue', () => {
    expect(props('TransformDLQ')).toMatchObject({
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
  });
});

describe('DynamoDB tables', () => {
  it.each([
    ['InvoicesTable', TABLES.invoices],
    ['CustomersTable', TABLES.customers],
  ] as const)('%s is on-demand, with PITR and SSE, keyed as the code creates it locally', (id, table) => {
    const p = props(id);
    expect(p['BillingMode']).toBe('PAY_PER_REQUEST');
    expect(p['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p['SSESpecification']).toEqual({ SSEEnabled: true });
    const local = tableDefinition(table, 'x');
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) =>
      String(a.AttributeName).localeCompare(String(b.AttributeName));
    expect(p['KeySchema']).toEqual(local.KeySchema);
    expect([...(p['AttributeDefinitions'] as { AttributeName: string }[])].sort(byName)).toEqual(
      [...(local.AttributeDefinitions ?? [])].sort(byName),
    );
    expect(p['GlobalSecondaryIndexes']).toEqual(local.GlobalSecondaryIndexes);
  });

  it('are every one retained when the stack is deleted or a change would replace them', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.map(([id]) => id).sort()).toEqual(['CustomersTable', 'InvoicesTable']);
    for (const [id, table] of tables) {
      expect({ id, deletion: table.DeletionPolicy, replace: table.UpdateReplacePolicy }).toEqual({
        id,
        deletion: 'Retain',
        replace: 'Retain',
      });
    }
  });

  it('indexes invoices by stock code in by_stock, projecting everything', () => {
    expect(at(props('InvoicesTable'), 'GlobalSecondaryIndexes')).toEqual([
      {
        IndexName: 'by_stock',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });
});

describe('buckets', () => {
  it('block all public access and encrypt, every one of them', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets.map(([id]) => id).sort()).toEqual([
      'LakeBucket',
      'RawBucket',
      'ServerlessDeploymentBucket',
    ]);
    for (const [id, b] of buckets) {
      expect({ id, block: b.Properties?.['PublicAccessBlockConfiguration'] }).toEqual({
        id,
        block: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      const sse = at(b.Properties ?? {}, 'BucketEncryption', 'ServerSideEncryptionConfiguration', 0);
      expect(['AES256', 'aws:kms']).toContain(at(sse, 'ServerSideEncryptionByDefault', 'SSEAlgorithm'));
    }
  });

  it.each(['LakeBucket', 'RawBucket'])('%s is versioned, retained, and TLS-only', (id) => {
    expect(props(id)['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
    expect(resource(id).DeletionPolicy).toBe('Retain');
    const policy = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::S3::BucketPolicy' && describeValue(at(r.Properties ?? {}, 'Bucket')) === id,
    );
    expect(at(policy?.Properties ?? {}, 'PolicyDocument', 'Statement', 0)).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });
});

describe('raw bucket lifecycle', () => {
  type Rule = { Id: string; Status: string; Prefix?: string; ExpirationInDays?: number };
  const rules = () => at(props('RawBucket'), 'LifecycleConfiguration', 'Rules') as unknown as Rule[];

  /** The prefixes nothing deletes, each read off the resource or the code that writes under it. */
  const growing = () => {
    const uploads = at(props('BatchUploadRule'), 'EventPattern', 'detail', 'object', 'key', 0, 'prefix');
    const errors = [
      at(
        props('WarehouseDeliveryStream'),
        'RedshiftDestinationConfiguration',
        'S3Configuration',
        'ErrorOutputPrefix',
      ),
      at(
        props('WarehouseDeliveryStream'),
        'RedshiftDestinationConfiguration',
        'S3BackupConfiguration',
        'ErrorOutputPrefix',
      ),
    ].map((prefix) => String(prefix).split('!{')[0] ?? '');
    // Both error outputs sit under one folder: one rule covers them.
    const errorsRoot = 'firehose/warehouse/errors/';
    for (const prefix of errors) expect(prefix.startsWith(errorsRoot)).toBe(true);
    return [String(uploads), LOADS_PREFIX, errorsRoot];
  };

  it("expires uploads, load records and the Redshift stream's errors after rawExpirationDays", () => {
    const days = Number(param('rawExpirationDays'));
    expect(Number.isInteger(days) && days > 0).toBe(true);
    for (const prefix of growing()) {
      const rule = rules().find((r) => r.Prefix === prefix);
      expect({ prefix, status: rule?.Status, days: rule?.ExpirationInDays }).toEqual({
        prefix,
        status: 'Enabled',
        days,
      });
    }
  });

  it('keeps the backup of every record, the quarantine and the staging rule as they were', () => {
    const prefixes = rules().map((r) => r.Prefix);
    expect(prefixes).not.toContain('firehose/warehouse/backup/');
    expect(prefixes).not.toContain('quarantine/');
    expect(rules().find((r) => r.Prefix === 'firehose/warehouse/staging/')?.ExpirationInDays).toBe(30);
  });
});

describe('REST API', () => {
  /** The manifest's routes as `METHOD /resource`, the form apiRoutes() names the template's methods. */
  const MANIFEST = API_ROUTES.map((r) => `${r.method} ${r.resource}`);

  it('is a REST API (not an HTTP API) with exactly the routes of the manifest, all on the api function', () => {
    expect(ofType('AWS::ApiGateway::RestApi')).toHaveLength(1);
    expect(ofType('AWS::ApiGatewayV2::Api')).toHaveLength(0);
    const routes = apiRoutes(template);
    expect([...routes.keys()].sort()).toEqual([...MANIFEST].sort());
    for (const method of routes.values()) {
      expect(at(method.Properties ?? {}, 'Integration', 'Type')).toBe('AWS_PROXY');
      expect(JSON.stringify(at(method.Properties ?? {}, 'Integration', 'Uri'))).toContain(
        'ApiLambdaFunction',
      );
    }
  });

  it('requires the API key on the routes needsApiKey names under Cognito: the ingest routes only', () => {
    const required = [...apiRoutes(template)].map(([route, m]) => [route, m.Properties?.['ApiKeyRequired']]);
    expect(Object.fromEntries(required)).toEqual(
      Object.fromEntries(
        API_ROUTES.map((r) => [`${r.method} ${r.resource}`, needsApiKey(r.scope, AUTH_MODES.cognito)]),
      ),
    );
    expect(API_ROUTES.filter((r) => needsApiKey(r.scope, AUTH_MODES.cognito)).map((r) => r.scope)).toEqual(
      expect.arrayContaining([SCOPES.ingest]),
    );
    // Only the health check and the dashboard's page and files (no data) are public; a new route is
    // private unless someone decides otherwise.
    expect(API_ROUTES.filter((r) => !isPrivate(r)).map((r) => r.resource)).toEqual([
      '/health',
      '/',
      '/dashboard/{file}',
    ]);
  });

  it('declares in resources/functions/api.yml the http events of the manifest, in its order', () => {
    const file = yaml.load(readFileSync(join(REPO, 'resources', 'functions', 'api.yml'), 'utf8'), {
      schema: CFN_YAML_SCHEMA,
    }) as { api: { events: { http: { method: string; path: string; private?: boolean } }[] } };
    const declared = file.api.events.map(({ http }) => ({
      method: http.method.toUpperCase(),
      // `path: /` is the root resource; every other path is written without its leading slash.
      resource: `/${http.path.replace(/^\//, '')}`,
      // A keyed route's `private` is its scope's entry of resources/api-key-routes.yml.
      private: http.private !== undefined,
    }));
    expect(declared).toEqual(
      API_ROUTES.map((r) => ({ method: r.method, resource: r.resource, private: isPrivate(r) })),
    );
  });

  it('has a usage plan with throttling and a quota, bound to the stage and to the key', () => {
    const plan = props('ApiGatewayUsagePlan');
    expect(at(plan, 'Throttle')).toEqual({ RateLimit: 20, BurstLimit: 40 });
    expect(at(plan, 'Quota')).toEqual({ Limit: 50000, Period: 'DAY' });
    expect(at(plan, 'ApiStages', 0)).toEqual({ ApiId: { Ref: 'ApiGatewayRestApi' }, Stage: STAGE });
    const [[, planKey] = []] = ofType('AWS::ApiGateway::UsagePlanKey');
    expect(planKey?.Properties).toMatchObject({
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: 'ApiGatewayUsagePlan' },
    });
    expect(ofType('AWS::ApiGateway::ApiKey')).toHaveLength(1);
  });

  it('passes CSV bodies as bytes, so a declared charset survives', () => {
    expect(props('ApiGatewayRestApi')['BinaryMediaTypes']).toEqual(['text/csv']);
  });

  it("answers API Gateway's own errors as JSON { error, message }", () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      const [, response] =
        ofType('AWS::ApiGateway::GatewayResponse').find(([, r]) => r.Properties?.['ResponseType'] === type) ??
        [];
      const body = String(at(response?.Properties ?? {}, 'ResponseTemplates', 'application/json'));
      // The local gateway answers in the same shape (src/local/gateway.ts).
      for (const error of Object.values(GATEWAY_ERRORS)) {
        const sample = body
          .replace('$context.error.responseType', error.responseType)
          .replace('$context.error.messageString', JSON.stringify(error.message));
        expect(JSON.parse(sample)).toEqual({ error: error.responseType, message: error.message });
      }
    }
  });
});

describe('access (auth=cognito, the test stage)', () => {
  const userPool = () => props('UserPool');
  const cognitoIds = () =>
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type.startsWith('AWS::Cognito::') || r.Type === 'AWS::ApiGateway::Authorizer')
      .map(([id]) => id);

  it('has a user pool of email sign-in, where only an admin creates users', () => {
    expect(ofType('AWS::Cognito::UserPool')).toHaveLength(1);
    expect(userPool()['UsernameAttributes']).toEqual(['email']);
    expect(at(userPool(), 'AdminCreateUserConfig', 'AllowAdminCreateUserOnly')).toBe(true);
    // Access-token customization (pre-token V2) needs the Essentials plan.
    expect(userPool()['UserPoolTier']).toBe('ESSENTIALS');
    expect(at(userPool(), 'LambdaConfig', 'PreTokenGenerationConfig')).toEqual({
      LambdaArn: { 'Fn::GetAtt': ['PreTokenLambdaFunction', 'Arn'] },
      LambdaVersion: 'V2_0',
    });
  });

  it('has a group per role, named as src/api/scopes.ts names them', () => {
    const groups = ofType('AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties?.['GroupName']);
    expect(groups.sort()).toEqual(Object.values(ROLE_GROUPS).sort());
    for (const [, g] of ofType('AWS::Cognito::UserPoolGroup')) {
      expect(g.Properties?.['UserPoolId']).toEqual({ Ref: 'UserPool' });
    }
  });

  it('has the resource server of the API with exactly the scopes the routes use', () => {
    expect(ofType('AWS::Cognito::UserPoolResourceServer').map(([id]) => id)).toEqual(['ApiResourceServer']);
    const server = props('ApiResourceServer');
    expect(server['Identifier']).toBe(RESOURCE_SERVER);
    const names = (server['Scopes'] as JsonObject[]).map((s) => s['ScopeName']);
    expect(names).toEqual(Object.values(SCOPES).map(scopeName));
    const used = new Set(API_ROUTES.filter(isPrivate).map((r) => r.scope));
    expect([...used].sort()).toEqual(Object.values(SCOPES).sort());
  });

  it('has a hosted-UI domain on the pool', () => {
    expect(ofType('AWS::Cognito::UserPoolDomain')).toHaveLength(1);
    expect(props('UserPoolDomain')['UserPoolId']).toEqual({ Ref: 'UserPool' });
  });

  it('gives the dashboard a public client: authorization code (with PKCE), no secret, read only', () => {
    const reader = props('ReaderClient');
    expect(reader['GenerateSecret']).toBe(false);
    expect(reader['AllowedOAuthFlows']).toEqual(['code']);
    expect(reader['AllowedOAuthFlowsUserPoolClient']).toBe(true);
    // What sign-in.js asks for; an admin's further scopes come from the pre-token trigger, not the client.
    expect(reader['AllowedOAuthScopes']).toEqual(SIGN_IN_SCOPE.split(' '));
    expect(reader['AllowedOAuthScopes']).not.toContain(SCOPES.admin);
    // It redirects back to the dashboard, at GET / of the stage.
    expect(JSON.stringify(reader['CallbackURLs'])).toContain('execute-api');
    expect(JSON.stringify(reader['CallbackURLs'])).toContain(`/${STAGE}/`);
  });

  it('gives machines a confidential client: client credentials, the ingest scope only', () => {
    const ingest = props('IngestClient');
    expect(ingest['GenerateSecret']).toBe(true);
    expect(ingest['AllowedOAuthFlows']).toEqual(['client_credentials']);
    expect(ingest['AllowedOAuthScopes']).toEqual(ROLE_SCOPES.ingest);
    expect(
      ofType('AWS::Cognito::UserPoolClient')
        .map(([id]) => id)
        .sort(),
    ).toEqual(['IngestClient', 'ReaderClient']);
  });

  it('has one Cognito authorizer on the REST API, reading the pool', () => {
    expect(ofType('AWS::ApiGateway::Authorizer').map(([id]) => id)).toEqual(['ApiCognitoAuthorizer']);
    expect(props('ApiCognitoAuthorizer')).toMatchObject({
      Type: 'COGNITO_USER_POOLS',
      RestApiId: { Ref: 'ApiGatewayRestApi' },
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': ['UserPool', 'Arn'] }],
    });
  });

  it("puts the authorizer on every private route, with the manifest's scope, and the API key on the ingest routes", () => {
    const methods = apiRoutes(template);
    const seen = API_ROUTES.map((r) => {
      const p = methods.get(`${r.method} ${r.resource}`)?.Properties ?? {};
      return {
        route: `${r.method} ${r.resource}`,
        type: p['AuthorizationType'],
        authorizer: p['AuthorizerId'] ?? null,
        scopes: p['AuthorizationScopes'] ?? null,
        key: p['ApiKeyRequired'],
      };
    });
    expect(seen).toEqual(
      API_ROUTES.map((r) => ({
        route: `${r.method} ${r.resource}`,
        type: isPrivate(r) ? 'COGNITO_USER_POOLS' : 'NONE',
        authorizer: isPrivate(r) ? { Ref: 'ApiCognitoAuthorizer' } : null,
        scopes: isPrivate(r) ? [r.scope] : null,
        key: needsApiKey(r.scope, AUTH_MODES.cognito),
      })),
    );
  });

  it("names in resources/functions/api.yml each route's authorizer by the manifest's scope", () => {
    const file = yaml.load(readFileSync(join(REPO, 'resources', 'functions', 'api.yml'), 'utf8'), {
      schema: CFN_YAML_SCHEMA,
    }) as { api: { events: { http: { authorizer?: string } }[] } };
    expect(file.api.events.map(({ http }) => http.authorizer ?? null)).toEqual(
      API_ROUTES.map((r) =>
        isPrivate(r) ? `\${self:custom.authorizers.${scopeName(r.scope as Scope)}}` : null,
      ),
    );
    const modes = yaml.load(readFileSync(join(REPO, 'resources', 'authorizers.yml'), 'utf8'), {
      schema: CFN_YAML_SCHEMA,
    }) as Record<AuthMode, Record<string, { scopes?: string[] } | string>>;
    expect(Object.keys(modes).sort()).toEqual(Object.values(AUTH_MODES).sort());
    for (const [name, scope] of Object.entries(SCOPES)) {
      expect(modes.cognito[name]).toMatchObject({ scopes: [scope] });
      expect(modes.apiKey[name]).toBe('');
    }
  });

  it('lets only the pool invoke the pre-token trigger, whose role writes its logs and nothing else', () => {
    const [[, permission] = []] = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties?.['Principal'] === 'cognito-idp.amazonaws.com',
    );
    expect(permission?.Properties).toMatchObject({
      FunctionName: { 'Fn::GetAtt': ['PreTokenLambdaFunction', 'Arn'] },
      Action: 'lambda:InvokeFunction',
      SourceArn: { 'Fn::GetAtt': ['UserPool', 'Arn'] },
    });
  });

  it("gives the API the dashboard's sign-in configuration with Cognito, and nothing without", () => {
    const env = at(props('ApiLambdaFunction'), 'Environment', 'Variables');
    for (const name of Object.values(SIGN_IN_VARIABLES)) {
      const value = at(env, name) as { 'Fn::If': [string, unknown, unknown] };
      expect([value['Fn::If'][0], value['Fn::If'][2]]).toEqual(['CognitoAuth', '']);
    }
    expect(describeValue(at(env, SIGN_IN_VARIABLES.clientId, 'Fn::If', 1))).toBe('ReaderClient');
  });

  it('makes every access resource conditional on auth=cognito, which the test stage sets', () => {
    expect(param('auth')).toBe(AUTH_MODES.cognito);
    const ids = [...cognitoIds(), 'PreTokenLambdaFunction', 'PreTokenLogGroup', 'PreTokenRole'];
    expect(
      ids.filter(
        (id) =>
          resource(id) && (template.Resources[id] as { Condition?: string }).Condition !== 'CognitoAuth',
      ),
    ).toEqual([]);
  });
});

describe('access (auth=apiKey)', () => {
  let apiKeyTemplate: Template;
  let apiKeyDir: string;
  beforeAll(() => {
    ({ template: apiKeyTemplate, dir: apiKeyDir } = packageTemplate(REPO, STAGE, [
      `--param=auth=${AUTH_MODES.apiKey}`,
    ]));
  }, 180_000);
  afterAll(() => {
    if (apiKeyDir) rmSync(apiKeyDir, { recursive: true, force: true });
  });

  it('puts no authorizer on any method: the API key alone, on the same routes', () => {
    const methods = [...apiRoutes(apiKeyTemplate)].map(([route, m]) => ({
      route,
      type: m.Properties?.['AuthorizationType'],
      key: m.Properties?.['ApiKeyRequired'],
    }));
    expect(methods.sort((a, b) => a.route.localeCompare(b.route))).toEqual(
      API_ROUTES.map((r) => ({
        route: `${r.method} ${r.resource}`,
        type: 'NONE',
        key: needsApiKey(r.scope, AUTH_MODES.apiKey),
      })).sort((a, b) => a.route.localeCompare(b.route)),
    );
  });

  it('leaves the pool and everything of it to a condition that is false', () => {
    expect(at(apiKeyTemplate as unknown as JsonObject, 'Conditions', 'CognitoAuth')).toEqual({
      'Fn::Equals': [AUTH_MODES.apiKey, AUTH_MODES.cognito],
    });
  });
});

describe('Glue catalogue', () => {
  it('has the database of the stage', () => {
    expect(at(props('GlueDatabase'), 'DatabaseInput', 'Name')).toBe(`ecomflow_${STAGE}`);
  });

  it('has invoice_lines_raw with exactly the contract columns, generated from src/core/schema.ts', () => {
    const input = at(props('LakeTable'), 'TableInput');
    expect(at(input, 'Name')).toBe(LAKE_RAW_TABLE);
    expect(at(input, 'StorageDescriptor', 'Columns')).toEqual(glueColumns());
    expect(at(input, 'PartitionKeys')).toEqual([
      { Name: 'year', Type: 'string' },
      { Name: 'month', Type: 'string' },
      { Name: 'day', Type: 'string' },
    ]);
    expect(at(input, 'StorageDescriptor', 'SerdeInfo', 'SerializationLibrary')).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(describeValue(at(input, 'StorageDescriptor', 'Location'))).toBe(
      's3://LakeBucket/lake/invoice_lines/',
    );
  });

  it('uses partition projection over the same layout Firehose writes', () => {
    const parameters = at(props('LakeTable'), 'TableInput', 'Parameters') as JsonObject;
    expect(parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.year.type': 'integer',
      'projection.year.range': '2010,2030',
      'projection.month.type': 'integer',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.type': 'integer',
      'projection.day.range': '1,31',
      'projection.day.digits': '2',
    });
    const template_ = describeValue(at(parameters, 'storage.location.template'));
    const prefix = String(at(props('LakeDeliveryStream'), 'ExtendedS3DestinationConfiguration', 'Prefix'));
    const asProjected = prefix.replace(/!\{partitionKeyFromQuery:(\w+)\}/g, '${$1}');
    expect(template_).toBe(`s3://LakeBucket/${asProjected}`);
  });

  it('has the quarantine table: the contract columns, partitioned by source and day as quarantineKey writes', () => {
    const input = at(props('QuarantineTable'), 'TableInput');
    expect(at(input, 'Name')).toBe(QUARANTINE_TABLE);
    expect(at(input, 'StorageDescriptor', 'Columns')).toEqual(
      QUARANTINE_COLUMNS.map((c) => ({ Name: c.name, Type: c.glue, Comment: c.comment })),
    );
    expect(at(input, 'PartitionKeys')).toEqual(
      QUARANTINE_PARTITIONS.map((Name) => ({ Name, Type: 'string' })),
    );
    expect(at(input, 'StorageDescriptor', 'SerdeInfo', 'SerializationLibrary')).toBe(
      'org.openx.data.jsonserde.JsonSerDe',
    );
    const parameters = at(input, 'Parameters') as JsonObject;
    expect(parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.source.type': 'enum',
      'projection.source.values': QUARANTINE_SOURCES.join(','),
      'projection.quarantine_date.type': 'date',
      'projection.quarantine_date.format': 'yyyy-MM-dd',
    });
    // The projected location of a partition is where the writers put that source's objects of that day.
    const location = describeValue(at(parameters, 'storage.location.template'))
      .replace('${source}', 'stream')
      .replace('${quarantine_date}', '2026-12-03');
    const key = quarantineKey('stream', '2026-12-03', 'shardId-000000000000-1');
    expect(`s3://RawBucket/quarantine/${key}`.startsWith(location)).toBe(true);
    expect(`s3://RawBucket/quarantine/${key}`.slice(location.length)).not.toContain('/');
  });

  it('generated file is up to date with the contract (run `npm run generate`)', () => {
    expect(readFileSync(join(REPO, GENERATED_PATH), 'utf8')).toBe(renderRecordContract());
  });
});

describe('Firehose to the lake', () => {
  const config = () => at(props('LakeDeliveryStream'), 'ExtendedS3DestinationConfiguration') as JsonObject;

  it('writes Parquet through the Glue table, from JSON read by the OpenX SerDe', () => {
    const conversion = at(config(), 'DataFormatConversionConfiguration');
    expect(at(conversion, 'Enabled')).toBe(true);
    expect(at(conversion, 'InputFormatConfiguration', 'Deserializer')).toEqual({
      OpenXJsonSerDe: { CaseInsensitive: true, ConvertDotsInJsonKeysToUnderscores: false },
    });
    expect(at(conversion, 'OutputFormatConfiguration', 'Serializer')).toEqual({
      ParquetSerDe: { Compression: 'SNAPPY' },
    });
    expect(at(conversion, 'SchemaConfiguration')).toMatchObject({
      DatabaseName: { Ref: 'GlueDatabase' },
      TableName: { Ref: 'LakeTable' },
      RoleARN: { 'Fn::GetAtt': ['LakeDeliveryRole', 'Arn'] },
      VersionId: 'LATEST',
    });
    expect(config()['CompressionFormat']).toBe('UNCOMPRESSED');
    expect(Number(at(config(), 'BufferingHints', 'SizeInMBs'))).toBeGreaterThanOrEqual(64);
    expect(Number(at(config(), 'BufferingHints', 'IntervalInSeconds'))).toBeLessThanOrEqual(120);
  });

  it('partitions by invoice date with dynamic partitioning (event time) and has an error prefix', () => {
    expect(at(config(), 'DynamicPartitioningConfiguration', 'Enabled')).toBe(true);
    expect(config()['Prefix']).toBe(
      'lake/invoice_lines/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/day=!{partitionKeyFromQuery:day}/',
    );
    expect(String(config()['ErrorOutputPrefix'])).toMatch(/^lake-errors\/!\{firehose:error-output-type\}\//);
    const processors = at(config(), 'ProcessingConfiguration', 'Processors') as JsonObject[];
    const extraction = processors.find((p) => p['Type'] === 'MetadataExtraction');
    const parameters = (extraction?.['Parameters'] ?? []) as JsonObject[];
    const parameter = (name: string) =>
      parameters.find((p) => p['ParameterName'] === name)?.['ParameterValue'];
    expect(parameter('JsonParsingEngine')).toBe('JQ-1.6');
    // Apply the jq string slices to a contract timestamp: the keys are the zero-padded date parts.
    const query = String(parameter('MetadataExtractionQuery'));
    const date = '2011-01-09T08:26:00Z';
    const keys = Object.fromEntries(
      [...query.matchAll(/(\w+):\s*\.invoice_date\[(\d+):(\d+)\]/g)].map(([, k, a, b]) => [
        k,
        date.slice(Number(a), Number(b)),
      ]),
    );
    expect(keys).toEqual({ year: '2011', month: '01', day: '09' });
  });

  it('splits packed records into single JSON lines before it extracts the partition keys', () => {
    const processing = at(config(), 'ProcessingConfiguration') as JsonObject;
    expect(processing['Enabled']).toBe(true);
    const processors = at(processing, 'Processors') as JsonObject[];
    const types = processors.map((p) => p['Type']);
    const deaggregation = types.indexOf('RecordDeAggregation');
    expect(deaggregation).toBeGreaterThanOrEqual(0);
    // Before the jq extraction, so each line, not each packed record, gets its own partition key.
    expect(deaggregation).toBeLessThan(types.indexOf('MetadataExtraction'));
    // JSON sub-records (consecutive or newline-delimited objects); a Delimiter belongs to DELIMITED only.
    expect(processors[deaggregation]?.['Parameters']).toEqual([
      { ParameterName: 'SubRecordType', ParameterValue: 'JSON' },
    ]);
  });

  it('logs delivery errors to CloudWatch', () => {
    expect(at(config(), 'CloudWatchLoggingOptions')).toEqual({
      Enabled: true,
      LogGroupName: { Ref: 'LakeDeliveryLogGroup' },
      LogStreamName: { Ref: 'LakeDeliveryLogStream' },
    });
  });
});

describe('Firehose to Redshift', () => {
  const config = () => at(props('WarehouseDeliveryStream'), 'RedshiftDestinationConfiguration') as JsonObject;

  it('COPYs the contract columns into raw.invoice_lines as JSON with ISO timestamps', () => {
    expect(at(config(), 'CopyCommand')).toEqual({
      DataTableName: '"raw".invoice_lines',
      DataTableColumns: COLUMN_NAMES.join(','),
      CopyOptions: "FORMAT AS JSON 'auto' TIMEFORMAT 'auto' GZIP",
    });
    // GZIP in the COPY options must match how the staging objects are written.
    expect(at(config(), 'S3Configuration', 'CompressionFormat')).toBe('GZIP');
  });

  it('connects to the workgroup or cluster of the stage, with credentials from Secrets Manager', () => {
    // Firehose's own pattern for the URL (API reference, RedshiftDestinationConfiguration).
    expect(config()['ClusterJDBCURL']).toMatch(
      /^jdbc:(redshift|postgresql):\/\/((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+(redshift(-serverless)?)\.([a-zA-Z0-9.-]+):\d{1,5}\/[a-zA-Z0-9_$-]+$/,
    );
    expect(at(config(), 'SecretsManagerConfiguration')).toEqual({
      Enabled: true,
      SecretARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
      RoleARN: { 'Fn::GetAtt': ['WarehouseDeliveryRole', 'Arn'] },
    });
    expect(config()['Username']).toBeUndefined();
    expect(config()['Password']).toBeUndefined();
  });

  it('stages in the raw bucket, backs up every record, retries and logs', () => {
    expect(at(config(), 'S3Configuration', 'BucketARN')).toEqual({ 'Fn::GetAtt': ['RawBucket', 'Arn'] });
    expect(at(config(), 'S3Configuration', 'Prefix')).toBe('firehose/warehouse/staging/');
    expect(config()['S3BackupMode']).toBe('Enabled');
    expect(at(config(), 'S3BackupConfiguration', 'Prefix')).toBe('firehose/warehouse/backup/');
    expect(Number(at(config(), 'RetryOptions', 'DurationInSeconds'))).toBeGreaterThan(0);
    expect(at(config(), 'CloudWatchLoggingOptions', 'Enabled')).toBe(true);
  });
});

describe('alarms', () => {
  it('watch the DLQ, the iterator age and both Firehose deliveries', () => {
    const watched = ofType('AWS::CloudWatch::Alarm').map(([, a]) => `${a.Properties?.['MetricName']}`);
    expect(watched).toEqual(
      expect.arrayContaining([
        'ApproximateNumberOfMessagesVisible',
        'IteratorAge',
        'DeliveryToS3.DataFreshness',
        'DeliveryToRedshift.Success',
      ]),
    );
  });

  it('alarm on a failed warehouse refresh: any error of the refresh function', () => {
    expect(props('RefreshErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RefreshLambdaFunction' } }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    // One period spans at least one scheduled run, so a failed run cannot fall between periods.
    expect(Number(props('RefreshErrorsAlarm')['Period'])).toBeGreaterThanOrEqual(15 * 60);
  });

  it('alarm when a day disagrees in two hourly audits in a row, on the metric the audit function emits', () => {
    const line = JSON.parse(metricLine(STAGE, 2, new Date(0))) as Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
    };
    const [emitted] = line._aws.CloudWatchMetrics;
    expect(props('AuditDisagreementAlarm')).toMatchObject({
      Namespace: emitted!.Namespace,
      MetricName: emitted!.Metrics[0]!.Name,
      Dimensions: [{ Name: 'Stage', Value: STAGE }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
    });
    expect(emitted!.Dimensions).toEqual([['Stage']]);
    expect(line[AUDIT_METRIC.name]).toBe(2);
    // A period is one scheduled run: the audit runs hourly.
    expect(Number(props('AuditDisagreementAlarm')['Period'])).toBe(3600);
    expect(props('AuditErrorsAlarm')).toMatchObject({
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'AuditLambdaFunction' } }],
    });
  });

  it('all notify the one alarm topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect({ id, actions: alarm.Properties?.['AlarmActions'] }).toEqual({
        id,
        actions: [{ Ref: 'AlarmTopic' }],
      });
    }
  });
});

/**
 * The IAM matrix: for each role, every action and the resources it applies to. An action missing here is a
 * privilege the role does not need; an action missing from the role breaks the function.
 */
const ATHENA_WORKGROUP_ARN =
  'arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${AthenaWorkGroup}';
const GLUE_CATALOGUE = [
  'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog',
  'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${GlueDatabase}',
  'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${GlueDatabase}/*',
];

const IAM: Record<string, Record<string, string[]>> = {
  ApiRole: {
    'logs:CreateLogStream': ['ApiLogGroup.Arn'],
    'logs:PutLogEvents': ['ApiLogGroup.Arn'],
    'kinesis:PutRecords': ['IngestStream.Arn'],
    's3:PutObject': ['${RawBucket.Arn}/quarantine/*'],
    's3:GetObject': ['${RawBucket.Arn}/audit/*', `\${RawBucket.Arn}/${DASHBOARD_SNAPSHOT_KEY}`],
    's3:ListBucket': ['RawBucket.Arn'],
    'dynamodb:Query': ['InvoicesTable.Arn', '${InvoicesTable.Arn}/index/by_stock', 'CustomersTable.Arn'],
    'lambda:InvokeFunction': ['EraseLambdaFunction.Arn'],
  },
  EraseRole: {
    'logs:CreateLogStream': ['EraseLogGroup.Arn'],
    'logs:PutLogEvents': ['EraseLogGroup.Arn'],
    'dynamodb:Query': ['InvoicesTable.Arn', 'CustomersTable.Arn'],
    'dynamodb:BatchWriteItem': ['InvoicesTable.Arn', 'CustomersTable.Arn'],
    'dynamodb:UpdateItem': ['InvoicesTable.Arn', 'CustomersTable.Arn'],
    's3:ListBucket': ['LakeBucket.Arn'],
    's3:GetObject': ['${LakeBucket.Arn}/lake/invoice_lines/*'],
    's3:PutObject': ['${LakeBucket.Arn}/lake/invoice_lines/*', '${RawBucket.Arn}/erasures/*'],
    's3:DeleteObject': ['${LakeBucket.Arn}/lake/invoice_lines/*'],
    'redshift-data:ExecuteStatement': [REDSHIFT_ARN],
    'redshift-data:BatchExecuteStatement': [REDSHIFT_ARN],
    'redshift-data:DescribeStatement': ['*'],
    'redshift-data:GetStatementResult': ['*'],
    'redshift-data:CancelStatement': ['*'],
    'secretsmanager:GetSecretValue': [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
      'ErasureKeySecret',
    ],
  },
  TransformRole: {
    'logs:CreateLogStream': ['TransformLogGroup.Arn'],
    'logs:PutLogEvents': ['TransformLogGroup.Arn'],
    'kinesis:DescribeStream': ['IngestStream.Arn'],
    'kinesis:DescribeStreamSummary': ['IngestStream.Arn'],
    'kinesis:GetRecords': ['IngestStream.Arn'],
    'kinesis:GetShardIterator': ['IngestStream.Arn'],
    'kinesis:ListShards': ['IngestStream.Arn'],
    'sqs:SendMessage': ['TransformDLQ.Arn'],
    'dynamodb:BatchWriteItem': ['InvoicesTable.Arn', 'CustomersTable.Arn'],
    'dynamodb:BatchGetItem': ['InvoicesTable.Arn'],
    'dynamodb:Query': ['InvoicesTable.Arn'],
    'dynamodb:PutItem': ['InvoicesTable.Arn'],
    'firehose:PutRecordBatch': ['LakeDeliveryStream.Arn', 'WarehouseDeliveryStream.Arn'],
    's3:PutObject': ['${RawBucket.Arn}/quarantine/*'],
  },
  LakeDeliveryRole: {
    's3:GetBucketLocation': ['LakeBucket.Arn'],
    's3:ListBucket': ['LakeBucket.Arn'],
    's3:ListBucketMultipartUploads': ['LakeBucket.Arn'],
    's3:AbortMultipartUpload': ['${LakeBucket.Arn}/lake/invoice_lines/*', '${LakeBucket.Arn}/lake-errors/*'],
    's3:GetObject': ['${LakeBucket.Arn}/lake/invoice_lines/*', '${LakeBucket.Arn}/lake-errors/*'],
    's3:PutObject': ['${LakeBucket.Arn}/lake/invoice_lines/*', '${LakeBucket.Arn}/lake-errors/*'],
    ...Object.fromEntries(
      ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'].map((a) => [
        a,
        [
          'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog',
          'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${GlueDatabase}',
          'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${GlueDatabase}/${LakeTable}',
        ],
      ]),
    ),
    'logs:PutLogEvents': ['LakeDeliveryLogGroup.Arn'],
  },
  BatchRole: {
    'logs:CreateLogStream': ['BatchLogGroup.Arn'],
    'logs:PutLogEvents': ['BatchLogGroup.Arn'],
    's3:GetObject': ['${RawBucket.Arn}/incoming/*', '${RawBucket.Arn}/loads/*'],
    's3:ListBucket': ['RawBucket.Arn'],
    's3:PutObject': [
      '${RawBucket.Arn}/loads/*',
      '${RawBucket.Arn}/quarantine/batch/*',
      '${LakeBucket.Arn}/lake/invoice_lines/*',
    ],
    'redshift-data:BatchExecuteStatement': [REDSHIFT_ARN],
    'redshift-data:DescribeStatement': ['*'],
    'redshift-data:CancelStatement': ['*'],
    'secretsmanager:GetSecretValue': [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
    ],
  },
  AuditRole: {
    'logs:CreateLogStream': ['AuditLogGroup.Arn'],
    'logs:PutLogEvents': ['AuditLogGroup.Arn'],
    'athena:StartQueryExecution': [ATHENA_WORKGROUP_ARN],
    'athena:GetQueryExecution': [ATHENA_WORKGROUP_ARN],
    'athena:GetQueryResults': [ATHENA_WORKGROUP_ARN],
    'athena:StopQueryExecution': [ATHENA_WORKGROUP_ARN],
    'glue:GetDatabase': GLUE_CATALOGUE,
    'glue:GetTable': GLUE_CATALOGUE,
    's3:GetBucketLocation': ['LakeBucket.Arn', 'RawBucket.Arn'],
    's3:ListBucket': ['LakeBucket.Arn', 'RawBucket.Arn'],
    's3:GetObject': [
      '${LakeBucket.Arn}/lake/invoice_lines/*',
      '${RawBucket.Arn}/quarantine/*',
      '${RawBucket.Arn}/athena-results/*',
    ],
    's3:PutObject': ['${RawBucket.Arn}/athena-results/*', '${RawBucket.Arn}/audit/*'],
    's3:AbortMultipartUpload': ['${RawBucket.Arn}/athena-results/*'],
    'dynamodb:Scan': ['InvoicesTable.Arn'],
    'sqs:GetQueueAttributes': ['TransformDLQ.Arn'],
    'redshift-data:ExecuteStatement': [REDSHIFT_ARN],
    'redshift-data:DescribeStatement': ['*'],
    'redshift-data:GetStatementResult': ['*'],
    'redshift-data:CancelStatement': ['*'],
    'secretsmanager:GetSecretValue': [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
    ],
  },
  PreTokenRole: {
    'logs:CreateLogStream': ['PreTokenLogGroup.Arn'],
    'logs:PutLogEvents': ['PreTokenLogGroup.Arn'],
  },
  CompactRole: {
    'logs:CreateLogStream': ['CompactLogGroup.Arn'],
    'logs:PutLogEvents': ['CompactLogGroup.Arn'],
    's3:ListBucket': ['LakeBucket.Arn'],
    's3:GetObject': ['${LakeBucket.Arn}/lake/invoice_lines/*'],
    's3:PutObject': ['${LakeBucket.Arn}/lake/invoice_lines/*'],
    's3:DeleteObject': ['${LakeBucket.Arn}/lake/invoice_lines/*'],
  },
  RefreshRole: {
    'logs:CreateLogStream': ['RefreshLogGroup.Arn'],
    'logs:PutLogEvents': ['RefreshLogGroup.Arn'],
    'redshift-data:BatchExecuteStatement': [REDSHIFT_ARN],
    'redshift-data:ExecuteStatement': [REDSHIFT_ARN],
    'redshift-data:DescribeStatement': ['*'],
    'redshift-data:CancelStatement': ['*'],
    'redshift-data:GetStatementResult': ['*'],
    'secretsmanager:GetSecretValue': [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
    ],
    'dynamodb:BatchWriteItem': ['CustomersTable.Arn'],
    // The dashboard snapshot, that one object: read (the last delivery's time) and replaced.
    's3:GetObject': [`\${RawBucket.Arn}/${DASHBOARD_SNAPSHOT_KEY}`],
    's3:PutObject': [`\${RawBucket.Arn}/${DASHBOARD_SNAPSHOT_KEY}`],
    's3:ListBucket': ['RawBucket.Arn'],
  },
  BatchStateMachineRole: {
    'lambda:InvokeFunction': ['BatchLambdaFunction.Arn'],
  },
  BatchTriggerRole: {
    'states:StartExecution': ['BatchStateMachine'],
  },
  LakeCopyRole: {
    's3:GetBucketLocation': ['LakeBucket.Arn', 'RawBucket.Arn'],
    's3:ListBucket': ['LakeBucket.Arn', 'RawBucket.Arn'],
    's3:GetObject': ['${LakeBucket.Arn}/lake/invoice_lines/*', '${RawBucket.Arn}/loads/*'],
  },
  WarehouseDeliveryRole: {
    's3:GetBucketLocation': ['RawBucket.Arn'],
    's3:ListBucket': ['RawBucket.Arn'],
    's3:ListBucketMultipartUploads': ['RawBucket.Arn'],
    's3:AbortMultipartUpload': ['${RawBucket.Arn}/firehose/warehouse/*'],
    's3:GetObject': ['${RawBucket.Arn}/firehose/warehouse/*'],
    's3:PutObject': ['${RawBucket.Arn}/firehose/warehouse/*'],
    'secretsmanager:GetSecretValue': [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecomflow-test-redshift-AbCdEf',
    ],
    'logs:PutLogEvents': ['WarehouseDeliveryLogGroup.Arn'],
  },
};

/** Actions no handler code calls, needed by the platform on the function's behalf. */
const PLATFORM_ACTIONS: Record<string, readonly string[]> = {
  // ListBucket under audit/ only, so that GET /status before the first audit reads a 404, not a 403.
  ApiRole: ['logs:CreateLogStream', 'logs:PutLogEvents', 's3:ListBucket'],
  CompactRole: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  PreTokenRole: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  // Athena runs the queries with the caller's permissions: the catalogue, the data, the results location;
  // it stops a query that outlives the audit's wait. The Data API reads the secret the same way.
  AuditRole: [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'glue:GetDatabase',
    'glue:GetTable',
    's3:GetBucketLocation',
    's3:ListBucket',
    's3:GetObject',
    's3:AbortMultipartUpload',
    'secretsmanager:GetSecretValue',
  ],
  TransformRole: [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    // The event source mapping reads the stream and sends to the on-failure destination with this role.
    'kinesis:DescribeStream',
    'kinesis:DescribeStreamSummary',
    'kinesis:GetRecords',
    'kinesis:GetShardIterator',
    'kinesis:ListShards',
    'sqs:SendMessage',
  ],
  // The Data API reads the database credentials from Secrets Manager with the caller's permissions.
  BatchRole: ['logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue'],
  // ListBucket on the snapshot's key only, so that the read before the first snapshot is a 404, not a 403.
  RefreshRole: [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'secretsmanager:GetSecretValue',
    's3:ListBucket',
  ],
  // The handler reads the key's secret itself; the Data API reads the warehouse's with the same action.
  EraseRole: ['logs:CreateLogStream', 'logs:PutLogEvents'],
};

/**
 * Redshift Data API actions that take no resource: allowed on '*' only under the condition that limits
 * them to the statements the role itself started.
 */
const OWN_STATEMENT_ACTIONS = new Set([
  'redshift-data:DescribeStatement',
  'redshift-data:CancelStatement',
  'redshift-data:GetStatementResult',
]);

function limitedToOwnStatements(s: { Action: string[]; raw: JsonObject }): boolean {
  const owner = JSON.stringify(s.raw['Condition'] ?? null);
  return (
    s.Action.every((a) => OWN_STATEMENT_ACTIONS.has(a)) &&
    owner ===
      JSON.stringify({
        StringEquals: {
          'redshift-data:statement-owner-iam-userid': { 'Fn::Join': ['', ['$', '{aws:userid}']] },
        },
      })
  );
}

describe('IAM', () => {
  it('has exactly the roles of the matrix', () => {
    expect(
      ofType('AWS::IAM::Role')
        .map(([id]) => id)
        .sort(),
    ).toEqual(Object.keys(IAM).sort());
  });

  it.each(Object.keys(IAM))('%s grants exactly the actions of the matrix, on exactly its resources', (id) => {
    expect(actionMap(resource(id))).toEqual(normalise(IAM[id] ?? {}));
  });

  it('has no wildcard action, no wildcard resource, no NotAction/NotResource and only Allow', () => {
    const offending: string[] = [];
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      for (const s of roleStatements(role)) {
        const where = `${id} ${JSON.stringify(s.raw)}`;
        if (s.Effect !== 'Allow') offending.push(`not Allow: ${where}`);
        if ('NotAction' in s.raw || 'NotResource' in s.raw) offending.push(`Not*: ${where}`);
        if (s.Action.some((a) => a.includes('*'))) offending.push(`wildcard action: ${where}`);
        if (s.Resource.some((r) => r === '*') && !limitedToOwnStatements(s)) {
          offending.push(`wildcard resource: ${where}`);
        }
      }
    }
    // The only '*' resources: the Data API's statement actions, limited to the role's own statements.
    expect(offending).toEqual([]);
  });

  it('runs Data API statements only on the workgroup or cluster that redshiftHost names', () => {
    expect(arnMatchesHost(REDSHIFT_ARN, String(param('redshiftHost')))).toBe(true);
    for (const id of ['BatchRole', 'RefreshRole', 'EraseRole']) {
      const run = roleStatements(resource(id)).filter((s) =>
        s.Action.includes('redshift-data:BatchExecuteStatement'),
      );
      expect({ id, resources: run.flatMap((s) => s.Resource) }).toEqual({ id, resources: [REDSHIFT_ARN] });
      // Nothing else runs single statements but the refresh's query of the loyalty balances and the
      // erasure's reads and key inserts, in the same scope.
      const execute = roleStatements(resource(id)).filter((s) =>
        s.Action.includes('redshift-data:ExecuteStatement'),
      );
      expect({ id, resources: execute.flatMap((s) => s.Resource) }).toEqual({
        id,
        resources: id === 'BatchRole' ? [] : [REDSHIFT_ARN],
      });
    }
  });

  it('lets the batch role list the raw bucket only under the prefixes it reads', () => {
    const list = roleStatements(resource('BatchRole')).filter((s) => s.Action.includes('s3:ListBucket'));
    expect(list).toHaveLength(1);
    expect(list[0]?.raw['Condition']).toEqual({
      StringLike: { 's3:prefix': ['incoming/*', `${LOADS_PREFIX}*`] },
    });
    // The prefixes it may read objects under are the ones it may list.
    const reads = actionMap(resource('BatchRole'))['s3:GetObject'] ?? [];
    expect(reads).toEqual(['${RawBucket.Arn}/incoming/*', `\${RawBucket.Arn}/${LOADS_PREFIX}*`]);
  });

  it('lets the refresh role and the API list the raw bucket only for the dashboard snapshot (and the audit)', () => {
    const lists = (id: string) =>
      roleStatements(resource(id))
        .filter((s) => s.Action.includes('s3:ListBucket'))
        .map((s) => s.raw['Condition']);
    expect(lists('RefreshRole')).toEqual([{ StringLike: { 's3:prefix': [DASHBOARD_SNAPSHOT_KEY] } }]);
    expect(lists('ApiRole')).toEqual([{ StringLike: { 's3:prefix': ['audit/*', DASHBOARD_SNAPSHOT_KEY] } }]);
  });

  it('lets only the intended service assume each role', () => {
    const trust = (id: string) => at(props(id), 'AssumeRolePolicyDocument', 'Statement') as JsonObject[];
    for (const id of ['ApiRole', 'TransformRole', 'BatchRole', 'RefreshRole', 'EraseRole']) {
      expect(trust(id)).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
    const serviceRole = (id: string, service: string) =>
      expect(trust(id)).toEqual([
        { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' },
      ]);
    serviceRole('BatchStateMachineRole', 'states.amazonaws.com');
    serviceRole('BatchTriggerRole', 'events.amazonaws.com');
    for (const id of ['LakeDeliveryRole', 'WarehouseDeliveryRole']) {
      expect(trust(id)).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'firehose.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
        },
      ]);
    }
  });
});

describe('IAM matches the SDK calls each handler can reach', () => {
  it.each([
    ['ApiRole', 'src/handlers/api.ts'],
    ['TransformRole', 'src/handlers/transform.ts'],
    ['BatchRole', 'src/handlers/batch.ts'],
    ['RefreshRole', 'src/handlers/refresh.ts'],
    ['CompactRole', 'src/handlers/compact.ts'],
    ['AuditRole', 'src/handlers/audit.ts'],
    ['EraseRole', 'src/handlers/erase.ts'],
  ])('%s grants what %s calls, and nothing more', async (role, entry) => {
    const called = await sdkActionsOf(REPO, entry);
    const granted = Object.keys(actionMap(resource(role))).sort();
    const needed = [...new Set([...called, ...(PLATFORM_ACTIONS[role] ?? [])])].sort();
    expect({ role, granted }).toEqual({ role, granted: needed });
  });
});
