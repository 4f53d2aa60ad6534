import { executeBatch, executeStatement, RedshiftStatementError } from '../../src/adapters/redshift-data.js';
import { fakeRedshiftData, recordingSleep } from '../helpers/redshift-data.js';

const SERVERLESS = {
  database: 'dev',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:wh',
  workgroupName: 'ecomflow',
};

describe('executeBatch', () => {
  it('sends the statements as one batch to the workgroup and polls until FINISHED', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([
      { Status: 'SUBMITTED' },
      { Status: 'STARTED' },
      { Status: 'FINISHED', ResultRows: 7, Duration: 2_500_000_000 },
    ]);
    const { waits, sleep } = recordingSleep();
    // Act
    const outcome = await executeBatch(client, SERVERLESS, ['DELETE FROM t', 'INSERT INTO t SELECT 1'], {
      sleep,
      name: 'ecomflow-refresh',
    });
    // Assess
    expect(outcome).toEqual({ id: 'stmt-1', resultRows: 7, durationMs: 2500 });
    expect(sent[0]).toEqual({
      name: 'BatchExecuteStatementCommand',
      input: {
        Database: 'dev',
        SecretArn: SERVERLESS.secretArn,
        WorkgroupName: 'ecomflow',
        Sqls: ['DELETE FROM t', 'INSERT INTO t SELECT 1'],
        StatementName: 'ecomflow-refresh',
      },
    });
    expect(sent.filter((c) => c.name === 'DescribeStatementCommand')).toHaveLength(3);
    expect(waits).toEqual([250, 375]);
  });

  it('names the failed statement of the batch and its error', async () => {
    // Prepare
    const { client } = fakeRedshiftData([
      {
        Status: 'FAILED',
        Error: 'batch failed',
        SubStatements: [
          { Id: 'stmt-1:1', Status: 'FINISHED' },
          { Id: 'stmt-1:2', Status: 'FAILED', Error: 'ERROR: relation "marts.x" does not exist' },
          { Id: 'stmt-1:3', Status: 'ABORTED' },
        ],
      },
    ]);
    // Act
    const run = executeBatch(client, SERVERLESS, ['a', 'b', 'c'], recordingSleep());
    // Assess
    await expect(run).rejects.toBeInstanceOf(RedshiftStatementError);
    await expect(run).rejects.toMatchObject({
      statementId: 'stmt-1',
      status: 'FAILED',
      failedIndex: 1,
      message:
        'Redshift statement stmt-1 failed (statement 2 of 3): ERROR: relation "marts.x" does not exist',
    });
  });

  it('cancels the statement and fails when it outlasts the timeout', async () => {
    // Prepare: a clock that advances a second per reading.
    const { client, sent } = fakeRedshiftData([{ Status: 'STARTED' }]);
    let t = 0;
    // Act
    const run = executeBatch(client, SERVERLESS, ['SELECT 1'], {
      ...recordingSleep(),
      now: () => (t += 1000),
      timeoutMs: 3000,
    });
    // Assess
    await expect(run).rejects.toThrow('did not finish within 3000 ms (status STARTED); cancelled');
    expect(sent.at(-1)).toEqual({ name: 'CancelStatementCommand', input: { Id: 'stmt-1' } });
  });

  it('refuses more statements than one batch takes', async () => {
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED' }]);
    await expect(executeBatch(client, SERVERLESS, new Array(41).fill('SELECT 1'))).rejects.toThrow(
      'a batch takes 1 to 40 statements, not 41',
    );
    expect(sent).toEqual([]);
  });

  it('needs exactly one of a workgroup and a cluster', async () => {
    const { client } = fakeRedshiftData([{ Status: 'FINISHED' }]);
    await expect(
      executeBatch(client, { ...SERVERLESS, clusterIdentifier: 'ecomflow-cluster' }, ['SELECT 1']),
    ).rejects.toThrow('exactly one of workgroupName and clusterIdentifier');
  });
});

describe('executeStatement', () => {
  it('passes named parameters and the cluster identifier', async () => {
    // Prepare
    const { client, sent } = fakeRedshiftData([{ Status: 'FINISHED', ResultRows: 1 }]);
    const cluster = { database: 'dev', secretArn: 'arn:s', clusterIdentifier: 'ecomflow-cluster' };
    // Act
    await executeStatement(client, cluster, 'SELECT * FROM marts.customer_rfm WHERE customer_id = :id', {
      id: '17850',
    });
    // Assess
    expect(sent[0]!.input).toEqual({
      Database: 'dev',
      SecretArn: 'arn:s',
      ClusterIdentifier: 'ecomflow-cluster',
      Sql: 'SELECT * FROM marts.customer_rfm WHERE customer_id = :id',
      Parameters: [{ name: 'id', value: '17850' }],
    });
  });

  it('reports an aborted statement', async () => {
    const { client } = fakeRedshiftData([{ Status: 'ABORTED' }]);
    await expect(executeStatement(client, SERVERLESS, 'SELECT 1')).rejects.toThrow(
      'Redshift statement stmt-1 was aborted: no error message',
    );
  });
});
