import { ConfigError } from '../../src/config/env.js';
import { hostTarget } from '../../src/config/redshift.js';
import { loadRefreshConfig } from '../../src/config/refresh.js';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:wh';

describe('loadRefreshConfig', () => {
  it('derives the serverless workgroup from the endpoint host', () => {
    // Act
    const config = loadRefreshConfig({
      REDSHIFT_HOST: 'ecomflow-dev.123456789012.eu-west-1.redshift-serverless.amazonaws.com',
      REDSHIFT_DATABASE: 'dev',
      REDSHIFT_SECRET_ARN: SECRET,
      AWS_REGION: 'eu-west-1',
    });
    // Assess
    expect(config).toEqual({
      region: 'eu-west-1',
      target: {
        database: 'dev',
        secretArn: SECRET,
        workgroupName: 'ecomflow-dev',
        clusterIdentifier: undefined,
      },
      timeoutMs: 600_000,
    });
  });

  it('reads where the loyalty balances and the dashboard snapshot go, each optional', () => {
    // Prepare
    const base = { REDSHIFT_DATABASE: 'dev', REDSHIFT_SECRET_ARN: SECRET, REDSHIFT_WORKGROUP: 'w' };
    // Act
    const set = loadRefreshConfig({ ...base, CUSTOMERS_TABLE: 'customers', DASHBOARD_BUCKET: 'raw' });
    const unset = loadRefreshConfig(base);
    // Assess
    expect(set).toMatchObject({ customersTable: 'customers', dashboardBucket: 'raw' });
    expect(unset).toMatchObject({ customersTable: undefined, dashboardBucket: undefined });
  });

  it('derives a provisioned cluster, and prefers an explicit workgroup or cluster to the host', () => {
    const base = { REDSHIFT_DATABASE: 'dev', REDSHIFT_SECRET_ARN: SECRET };
    const cluster = 'wh.c1x2y3.eu-west-1.redshift.amazonaws.com';
    expect(loadRefreshConfig({ ...base, REDSHIFT_HOST: cluster }).target.clusterIdentifier).toBe('wh');
    expect(
      loadRefreshConfig({ ...base, REDSHIFT_HOST: cluster, REDSHIFT_WORKGROUP: 'other' }).target,
    ).toMatchObject({
      workgroupName: 'other',
      clusterIdentifier: undefined,
    });
  });

  it('names every missing variable at once', () => {
    // Act
    const load = () => loadRefreshConfig({ REDSHIFT_HOST: 'localhost' });
    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      'refresh: missing environment variable(s) REDSHIFT_DATABASE, REDSHIFT_SECRET_ARN, REDSHIFT_WORKGROUP, REDSHIFT_CLUSTER_ID or a Redshift REDSHIFT_HOST',
    );
  });

  it('refuses both a workgroup and a cluster, and a bad timeout', () => {
    const base = { REDSHIFT_DATABASE: 'dev', REDSHIFT_SECRET_ARN: SECRET };
    expect(() => loadRefreshConfig({ ...base, REDSHIFT_WORKGROUP: 'w', REDSHIFT_CLUSTER_ID: 'c' })).toThrow(
      'not both',
    );
    expect(() =>
      loadRefreshConfig({ ...base, REDSHIFT_WORKGROUP: 'w', REFRESH_TIMEOUT_SECONDS: '5m' }),
    ).toThrow('REFRESH_TIMEOUT_SECONDS must be a positive whole number of seconds, not "5m"');
  });
});

describe('hostTarget', () => {
  it('names nothing for a host that is not a Redshift endpoint', () => {
    expect(hostTarget('db.example.com')).toEqual({});
    expect(hostTarget(undefined)).toEqual({});
  });
});
