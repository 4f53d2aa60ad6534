import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { LOYALTY_BALANCES_QUERY } from '../../src/analytics/loyalty-publish.js';
import { REFRESH_LOCK_SQL } from '../../src/analytics/refresh.js';
import { LOYALTY_BALANCE_SK } from '../../src/core/dynamo-items.js';
import { createRefreshHandler } from '../../src/handlers/refresh.js';
import { fakeRedshiftData, type SentCommand } from '../helpers/redshift-data.js';

const config = {
  region: 'eu-west-1',
  target: { database: 'dev', secretArn: 'arn:s', workgroupName: 'ecomflow' },
  timeoutMs: 60_000,
  customersTable: undefined,
};

/** A document client that records what it is sent and stores every put. */
function fakeDynamo() {
  const sent: SentCommand[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ name: command.constructor.name, input: command.input });
      return { UnprocessedItems: {} };
    },
  };
  return { dynamo: client as unknown as DynamoDBDocumentClient, sent };
}

describe('refresh handler', () => {
  beforeEach(() => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('runs the setup batch, then the refresh batch starting with the lock, on the configured workgroup', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED' }]);
    const handler = createRefreshHandler(() => ({ config, client, dynamo: fakeDynamo().dynamo }));
    // Act
    const result = await handler();
    // Assess
    const batches = sent.filter((c) => c.name === 'BatchExecuteStatementCommand');
    expect(batches).toHaveLength(2);
    expect(batches[1]!.input).toMatchObject({
      WorkgroupName: 'ecomflow',
      Database: 'dev',
      SecretArn: 'arn:s',
    });
    expect((batches[1]!.input['Sqls'] as string[])[0]).toBe(REFRESH_LOCK_SQL);
    expect(result).toMatchObject({ target: 'redshift ecomflow/dev', full: false });
  });

  it('publishes the balances of marts.loyalty_balances to the customers table after the refresh', async () => {
    // Prepare: the Data API answers the balances query with two customers.
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED', HasResultSet: true }], {
      ColumnMetadata: [{ name: 'customer_id' }, { name: 'points' }, { name: 'as_of' }],
      Records: [
        [{ longValue: 12347 }, { longValue: 4310 }, { stringValue: '2011-12-09 12:50:00' }],
        [{ longValue: 17850 }, { longValue: 0 }, { stringValue: '2011-12-09 12:50:00' }],
      ],
    });
    const { dynamo, sent: writes } = fakeDynamo();
    const handler = createRefreshHandler(() => ({
      config: { ...config, customersTable: 'ecomflow-test-customers' },
      client,
      dynamo,
    }));
    // Act
    const result = await handler();
    // Assess
    const queries = sent.filter((c) => c.name === 'ExecuteStatementCommand');
    expect(queries.map((q) => q.input['Sql'])).toEqual([LOYALTY_BALANCES_QUERY]);
    expect(writes.map((w) => w.name)).toEqual(['BatchWriteCommand']);
    const requests = (
      writes[0]!.input['RequestItems'] as Record<string, { PutRequest: { Item: unknown } }[]>
    )['ecomflow-test-customers']!;
    expect(requests.map((r) => r.PutRequest.Item)).toEqual([
      {
        pk: 'CUST#12347',
        sk: LOYALTY_BALANCE_SK,
        kind: 'loyalty_balance',
        customer_id: 12347,
        points: 4310,
        as_of: '2011-12-09T12:50:00Z',
      },
      {
        pk: 'CUST#17850',
        sk: LOYALTY_BALANCE_SK,
        kind: 'loyalty_balance',
        customer_id: 17850,
        points: 0,
        as_of: '2011-12-09T12:50:00Z',
      },
    ]);
    expect(result.loyalty).toMatchObject({ balances: 2, written: 2 });
  });

  it('publishes nothing, and says so, when no customers table is configured', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED' }]);
    const { dynamo, sent: writes } = fakeDynamo();
    const handler = createRefreshHandler(() => ({ config, client, dynamo }));
    // Act
    const result = await handler();
    // Assess
    expect(sent.filter((c) => c.name === 'ExecuteStatementCommand')).toEqual([]);
    expect(writes).toEqual([]);
    expect(result.loyalty).toBeUndefined();
  });

  it('fails the invocation when Redshift fails a statement', async () => {
    // Prepare
    const { client } = fakeRedshiftData([{ Status: 'FAILED', Error: 'permission denied for schema marts' }]);
    const handler = createRefreshHandler(() => ({ config, client, dynamo: fakeDynamo().dynamo }));
    // Act / Assess
    await expect(handler()).rejects.toThrow('permission denied for schema marts');
  });
});
