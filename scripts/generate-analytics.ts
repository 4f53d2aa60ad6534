/**
 * Writes `resources/analytics.yml`: the Athena side of the analytics, deployed with the stack.
 *
 * - One Glue table of type VIRTUAL_VIEW per file in glue/views, in the form Athena itself stores a
 *   `CREATE VIEW` ("Presto view": the SQL and its column types, base64 JSON in ViewOriginalText). So the
 *   views exist as soon as the stack does, with no one running DDL in the console.
 * - One Athena named query per file in glue/queries.
 * - An Athena workgroup (engine 3) whose query results go to the raw bucket under athena-results/.
 *
 * Column types come from src/analytics/view-columns.ts, which the tests check against DuckDB's types for
 * the same views. Run after changing a view or query: `npx tsx scripts/generate-analytics.ts`. A test
 * fails while the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  findSqlRoot,
  type LAKE_VIEWS,
  loadLakeQueries,
  loadLakeViews,
  type NamedQueryDefinition,
  type ViewDefinition,
} from '../src/analytics/models.js';
import { VIEW_COLUMN_TYPES, VIEW_COLUMNS } from '../src/analytics/view-columns.js';
import { DASHBOARD_SNAPSHOT_KEY } from '../src/dashboard/contract.js';

/** Where the generated file lives, relative to the repository root. */
export const ANALYTICS_PATH = 'resources/analytics.yml';

/** The prefix of Athena's query results in the raw bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml };

/** CloudFormation resource names: `daily_revenue` -> `AthenaViewDailyRevenue`. */
function pascal(name: string): string {
  return name
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function viewResource(view: ViewDefinition): Yaml {
  const columns = VIEW_COLUMNS[view.name as (typeof LAKE_VIEWS)[number]];
  // What Athena writes for a CREATE VIEW; `schema` resolves the view's unqualified table names.
  const prestoView = JSON.stringify({
    originalSql: view.selectSql,
    catalog: 'awsdatacatalog',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub fills it in.
    schema: '${GlueDatabase}',
    columns: columns.map(([name, type]) => ({ name, type: VIEW_COLUMN_TYPES[type].presto })),
  });
  return {
    Type: 'AWS::Glue::Table',
    Properties: {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseName: { Ref: 'GlueDatabase' },
      TableInput: {
        Name: view.name,
        Description: `ecomflow view, generated from glue/views/${view.name}.sql`,
        TableType: 'VIRTUAL_VIEW',
        Parameters: { presto_view: 'true', comment: 'Presto View' },
        ViewOriginalText: {
          'Fn::Join': ['', ['/* Presto View: ', { 'Fn::Base64': { 'Fn::Sub': prestoView } }, ' */']],
        },
        ViewExpandedText: '/* Presto View */',
        StorageDescriptor: {
          Columns: columns.map(([name, type]) => ({ Name: name, Type: VIEW_COLUMN_TYPES[type].hive })),
          SerdeInfo: { Name: '-', SerializationLibrary: '-' },
        },
      },
    },
  };
}

function queryResource(query: NamedQueryDefinition): Yaml {
  return {
    Type: 'AWS::Athena::NamedQuery',
    Properties: {
      Name: `ecomflow ${query.name}`,
      Description: query.description.slice(0, 1024),
      Database: { Ref: 'GlueDatabase' },
      WorkGroup: { Ref: 'AthenaWorkGroup' },
      QueryString: query.sql,
    },
  };
}

/**
 * The refresh function's role (resources/functions/refresh.yml): the Data API calls it makes, the secret
 * it connects with, its log group, the puts of the loyalty balances on the customers table, and the
 * dashboard snapshot: that one object of the raw bucket (DASHBOARD_SNAPSHOT_KEY), read and written.
 * BatchExecuteStatement and ExecuteStatement are scoped to the stage's workgroup or cluster (`redshiftArn`:
 * a workgroup's ARN holds its id, not its name, so it is a parameter); the statement calls are limited to
 * statements this role started, as AWS's own Data API policies do.
 */
function refreshRole(): Yaml {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: 'ecomflow refresh function',
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
      Policies: [
        {
          PolicyName: 'refresh',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'Logs',
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                Resource: { 'Fn::GetAtt': ['RefreshLogGroup', 'Arn'] },
              },
              {
                Sid: 'RunStatements',
                Effect: 'Allow',
                // The refresh runs each transaction as one BatchExecuteStatement, and nothing else.
                Action: 'redshift-data:BatchExecuteStatement',
                // biome-ignore lint/suspicious/noTemplateCurlyInString: the Serverless Framework fills it in.
                Resource: '${param:redshiftArn}',
              },
              {
                Sid: 'FollowOwnStatements',
                Effect: 'Allow',
                Action: ['redshift-data:DescribeStatement', 'redshift-data:CancelStatement'],
                Resource: '*',
                // The IAM policy variable ${aws:userid}, joined from two pieces so that the Serverless
                // Framework does not take it for one of its own ${aws:...} variables.
                Condition: {
                  StringEquals: {
                    'redshift-data:statement-owner-iam-userid': { 'Fn::Join': ['', ['$', '{aws:userid}']] },
                  },
                },
              },
              {
                Sid: 'WarehouseCredentials',
                Effect: 'Allow',
                Action: 'secretsmanager:GetSecretValue',
                // biome-ignore lint/suspicious/noTemplateCurlyInString: the Serverless Framework fills it in.
                Resource: '${param:redshiftSecretArn}',
              },
              {
                Sid: 'ReadLoyaltyBalances',
                Effect: 'Allow',
                // One query after the refresh reads marts.loyalty_balances to publish it.
                Action: 'redshift-data:ExecuteStatement',
                // biome-ignore lint/suspicious/noTemplateCurlyInString: the Serverless Framework fills it in.
                Resource: '${param:redshiftArn}',
              },
              {
                Sid: 'ReadOwnResults',
                Effect: 'Allow',
                Action: 'redshift-data:GetStatementResult',
                Resource: '*',
                Condition: {
                  StringEquals: {
                    'redshift-data:statement-owner-iam-userid': { 'Fn::Join': ['', ['$', '{aws:userid}']] },
                  },
                },
              },
              {
                Sid: 'PublishLoyaltyBalances',
                Effect: 'Allow',
                // Plain puts of the balance items, on the customers table alone.
                Action: 'dynamodb:BatchWriteItem',
                Resource: { 'Fn::GetAtt': ['CustomersTable', 'Arn'] },
              },
              {
                Sid: 'WriteDashboardSnapshot',
                Effect: 'Allow',
                // The snapshot replaces the last one (read first, for the time of the last delivery).
                Action: ['s3:GetObject', 's3:PutObject'],
                Resource: { 'Fn::Sub': `\${RawBucket.Arn}/${DASHBOARD_SNAPSHOT_KEY}` },
              },
              {
                Sid: 'ListDashboardSnapshot',
                Effect: 'Allow',
                // So that the read before the first snapshot answers 404 (none yet), not 403.
                Action: 's3:ListBucket',
                Resource: { 'Fn::GetAtt': ['RawBucket', 'Arn'] },
                Condition: { StringLike: { 's3:prefix': [DASHBOARD_SNAPSHOT_KEY] } },
              },
            ],
          },
        },
      ],
    },
  };
}

/** The fragment, as a value. */
export async function analyticsResources(root: string = findSqlRoot()): Promise<Yaml> {
  const resources: Record<string, Yaml> = {
    AthenaWorkGroup: {
      Type: 'AWS::Athena::WorkGroup',
      Properties: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the Serverless Framework fills it in.
        Name: '${self:service}-${sls:stage}',
        Description: 'ecomflow lake queries (Athena engine 3)',
        State: 'ENABLED',
        RecursiveDeleteOption: true,
        WorkGroupConfiguration: {
          EnforceWorkGroupConfiguration: true,
          PublishCloudWatchMetricsEnabled: true,
          // A runaway query over the whole lake stops at 10 GB scanned.
          BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
          ResultConfiguration: {
            OutputLocation: { 'Fn::Sub': `s3://\${RawBucket}/${ATHENA_RESULTS_PREFIX}` },
            EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          },
        },
      },
    },
  };
  resources['RefreshRole'] = refreshRole();
  for (const view of await loadLakeViews(root))
    resources[`AthenaView${pascal(view.name)}`] = viewResource(view);
  for (const query of await loadLakeQueries(root)) {
    resources[`AthenaQuery${pascal(query.name)}`] = queryResource(query);
  }
  return {
    Resources: resources,
    Outputs: { AthenaWorkGroupName: { Value: { Ref: 'AthenaWorkGroup' } } },
  };
}

/** YAML text: block mappings and sequences, strings double-quoted (JSON escapes) or as literal blocks. */
export function toYaml(value: Yaml, indent = ''): string {
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (isScalar(item)) return `${indent}- ${scalar(item, `${indent}  `)}\n`;
        // The item's first line moves up beside the dash: `- Name: x`.
        return `${indent}- ${toYaml(item, `${indent}  `).slice(indent.length + 2)}`;
      })
      .join('');
  }
  if (typeof value === 'object') {
    return Object.entries(value)
      .map(([key, item]) => {
        const k = /^[A-Za-z0-9_:.-]+$/.test(key) ? key : JSON.stringify(key);
        if (isScalar(item)) return `${indent}${k}: ${scalar(item, `${indent}  `)}\n`;
        return `${indent}${k}:\n${toYaml(item, `${indent}  `)}`;
      })
      .join('');
  }
  return scalar(value, indent);
}

function isScalar(value: Yaml): value is string | number | boolean {
  return typeof value !== 'object';
}

function scalar(value: string | number | boolean, indent: string): string {
  if (typeof value !== 'string') return String(value);
  // SQL reads best as a literal block; `|-` keeps the text exactly, without a final newline.
  if (value.includes('\n') && !/[ \t]$/m.test(value) && !value.startsWith(' ')) {
    return `|-\n${value
      .split('\n')
      .map((line) => (line ? `${indent}${line}` : ''))
      .join('\n')}`;
  }
  return JSON.stringify(value);
}

const HEADER = `# Athena views and named queries over the lake, deployed with the stack (issue 6).
# GENERATED from glue/views/*.sql, glue/queries/*.sql and src/analytics/view-columns.ts by
# \`npx tsx scripts/generate-analytics.ts\`; never edit by hand (a test fails while this file is stale).
# It needs GlueDatabase (resources/lake.yml) and RawBucket (resources/buckets.yml) in the same stack.
`;

/** The file's exact text. */
export async function renderAnalytics(root?: string): Promise<string> {
  return `${HEADER}${toYaml(await analyticsResources(root))}`;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeFileSync(resolve(repoRoot, ANALYTICS_PATH), await renderAnalytics(repoRoot));
  console.log(`wrote ${ANALYTICS_PATH}`);
}
