import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANALYTICS_PATH, analyticsResources, renderAnalytics } from '../../scripts/generate-analytics.js';
import { findSqlRoot, LAKE_QUERIES, LAKE_VIEWS, loadLakeViews } from '../../src/analytics/models.js';
import { VIEW_COLUMN_TYPES, VIEW_COLUMNS } from '../../src/analytics/view-columns.js';

const root = findSqlRoot();
type Node = Record<string, unknown>;

describe('resources/analytics.yml', () => {
  it('is what scripts/generate-analytics.ts makes of glue/ today', async () => {
    // Act
    const committed = readFileSync(join(root, ANALYTICS_PATH), 'utf8');
    // Assess: run `npx tsx scripts/generate-analytics.ts` after changing a view or query.
    expect(committed).toBe(await renderAnalytics(root));
  });

  it('defines a Glue view per view file, storing its SELECT and the declared column types', async () => {
    // Prepare
    const resources = ((await analyticsResources(root)) as { Resources: Record<string, Node> }).Resources;
    const views = await loadLakeViews(root);
    // Act
    const glueViews = Object.values(resources).filter((r) => r['Type'] === 'AWS::Glue::Table');
    // Assess
    expect(glueViews).toHaveLength(LAKE_VIEWS.length);
    for (const view of views) {
      const input = (
        glueViews.find(
          (r) =>
            (r['Properties'] as Node)['TableInput'] &&
            ((r['Properties'] as Node)['TableInput'] as Node)['Name'] === view.name,
        )!['Properties'] as Node
      )['TableInput'] as Node;
      expect(input).toMatchObject({ TableType: 'VIRTUAL_VIEW', Parameters: { presto_view: 'true' } });
      const join = (
        input['ViewOriginalText'] as {
          'Fn::Join': [string, [string, { 'Fn::Base64': { 'Fn::Sub': string } }, string]];
        }
      )['Fn::Join'];
      const presto = JSON.parse(join[1][1]['Fn::Base64']['Fn::Sub']) as {
        originalSql: string;
        schema: string;
        columns: unknown;
      };
      expect(presto.originalSql).toBe(view.selectSql);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's placeholder, filled at deploy.
      expect(presto.schema).toBe('${GlueDatabase}');
      const columns = VIEW_COLUMNS[view.name as (typeof LAKE_VIEWS)[number]];
      expect(presto.columns).toEqual(
        columns.map(([name, type]) => ({ name, type: VIEW_COLUMN_TYPES[type].presto })),
      );
      expect((input['StorageDescriptor'] as Node)['Columns']).toEqual(
        columns.map(([name, type]) => ({ Name: name, Type: VIEW_COLUMN_TYPES[type].hive })),
      );
    }
  });

  it('defines a named query per query file in the workgroup, and the refresh role', async () => {
    // Act
    const resources = ((await analyticsResources(root)) as { Resources: Record<string, Node> }).Resources;
    // Assess
    const queries = Object.values(resources).filter((r) => r['Type'] === 'AWS::Athena::NamedQuery');
    expect(queries).toHaveLength(LAKE_QUERIES.length);
    for (const q of queries) expect(q['Properties']).toMatchObject({ WorkGroup: { Ref: 'AthenaWorkGroup' } });
    const statements = (
      ((resources['RefreshRole']!['Properties'] as Node)['Policies'] as Node[])[0]!['PolicyDocument'] as Node
    )['Statement'] as Node[];
    expect(statements.flatMap((s) => [s['Action']].flat())).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'redshift-data:BatchExecuteStatement',
      'redshift-data:DescribeStatement',
      'redshift-data:CancelStatement',
      'secretsmanager:GetSecretValue',
      // The loyalty balances: one query, its results, and the puts on the customers table.
      'redshift-data:ExecuteStatement',
      'redshift-data:GetStatementResult',
      'dynamodb:BatchWriteItem',
      // The dashboard snapshot: read, replaced, and listed only so that a missing one reads as a 404.
      's3:GetObject',
      's3:PutObject',
      's3:ListBucket',
    ]);
  });
});
