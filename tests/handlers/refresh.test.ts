import { jest } from '@jest/globals';
import { REFRESH_LOCK_SQL } from '../../src/analytics/refresh.js';
import { createRefreshHandler } from '../../src/handlers/refresh.js';
import { fakeRedshiftData } from '../helpers/redshift-data.js';

const config = {
  region: 'eu-west-1',
  target: { database: 'dev', secretArn: 'arn:s', workgroupName: 'ecomflow' },
  timeoutMs: 60_000,
};

describe('refresh handler', () => {
  beforeEach(() => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('runs the setup batch, then the refresh batch starting with the lock, on the configured workgroup', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED' }]);
    const handler = createRefreshHandler(() => ({ config, client }));
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

  it('fails the invocation when Redshift fails a statement', async () => {
    // Prepare
    const { client } = fakeRedshiftData([{ Status: 'FAILED', Error: 'permission denied for schema marts' }]);
    const handler = createRefreshHandler(() => ({ config, client }));
    // Act / Assess
    await expect(handler()).rejects.toThrow('permission denied for schema marts');
  });
});
