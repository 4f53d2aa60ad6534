/**
 * GET /dashboard/data and the dashboard's files through the API handler, against s3rver: the snapshot and
 * the last audit read from the audit's bucket, a part that cannot be read named (200, not 500), filters
 * refused with 400 naming the parameter, and only the page's own files served.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient } from '../../../src/adapters/dynamodb.js';
import { createKinesisClient } from '../../../src/adapters/kinesis.js';
import { createS3Client } from '../../../src/adapters/s3.js';
import { writeJson } from '../../../src/adapters/s3-objects.js';
import type { ApiDeps } from '../../../src/api/deps.js';
import { ROUTES } from '../../../src/api/routes.js';
import { PUBLIC, SCOPES } from '../../../src/api/scopes.js';
import { AUDIT_RESULT_KEY } from '../../../src/audit/compare.js';
import { loadApiConfig } from '../../../src/config/api.js';
import { versionClock } from '../../../src/core/changes.js';
import {
  CHART_JS_FILE,
  DASHBOARD_ASSETS,
  DASHBOARD_PAGE,
  SIGN_IN_CONFIG_FILE,
} from '../../../src/dashboard/assets.js';
import { DASHBOARD_SNAPSHOT_KEY, type DashboardView } from '../../../src/dashboard/contract.js';
import { createApiHandler } from '../../../src/handlers/api.js';
import { aDailyRow, anAuditReport, aSnapshot } from '../../helpers/dashboard.js';
import { closedPort, type Emulators, startEmulators } from '../../helpers/emulators.js';
import { apiEvent, lambdaContext } from '../../helpers/events.js';
import { fastClientOptions, interceptCommand } from '../../helpers/faults.js';
import { ROOT } from '../../helpers/stack-process.js';

let emu: Emulators;
let deps: ApiDeps;
let bucket: string;
const silent = new Logger({ serviceName: 'ecomflow-test', logLevel: 'SILENT' });

beforeAll(async () => {
  emu = await startEmulators({ shards: 1 });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(async () => {
  const config = loadApiConfig(emu.env);
  bucket = config.auditBucket;
  deps = {
    config,
    kinesis: createKinesisClient(config.aws, fastClientOptions()),
    dynamo: createDocumentClient(config.aws, fastClientOptions()),
    s3: createS3Client(config.aws, fastClientOptions()),
    version: versionClock(Date.now),
  };
  for (const key of [DASHBOARD_SNAPSHOT_KEY, AUDIT_RESULT_KEY]) {
    await emu.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
});

async function call(event: APIGatewayProxyEvent, withDeps: () => ApiDeps = () => deps) {
  const result = (await createApiHandler(withDeps, silent)(event, lambdaContext())) as APIGatewayProxyResult;
  return result;
}

async function data(query?: Record<string, string>, withDeps?: () => ApiDeps) {
  const result = await call(apiEvent({ resource: '/dashboard/data', ...(query ? { query } : {}) }), withDeps);
  return {
    statusCode: result.statusCode,
    body: JSON.parse(result.body) as DashboardView & Record<string, unknown>,
  };
}

describe('the dashboard routes in the manifest', () => {
  it('keep the data behind the key and the page public, the data route before the file route', () => {
    const routes = ROUTES.filter((r) => r.resource === '/' || r.resource.startsWith('/dashboard/'));
    expect(routes.map((r) => [r.method, r.resource, r.scope])).toEqual([
      ['GET', '/', PUBLIC],
      ['GET', '/dashboard/data', SCOPES.read],
      ['GET', '/dashboard/{file}', PUBLIC],
    ]);
  });
});

describe('GET /dashboard/data', () => {
  it('answers an empty view with no part down before any refresh wrote a snapshot', async () => {
    const { statusCode, body } = await data();
    expect(statusCode).toBe(200);
    expect(body.refreshedAt).toBeNull();
    expect(body.health.unavailable).toEqual([]);
  });

  it("answers the snapshot's figures for the filter, with the last audit's health", async () => {
    // Prepare
    const snapshot = aSnapshot({
      dailyCountryRevenue: [
        aDailyRow({ day: '2011-11-14', country: 'Netherlands', revenue: 0.1 }),
        aDailyRow({ day: '2011-11-14', country: 'France', revenue: 0.2 }),
        aDailyRow({ day: '2011-11-15', country: 'Netherlands', revenue: 7 }),
      ],
    });
    await writeJson(emu.s3, bucket, DASHBOARD_SNAPSHOT_KEY, snapshot);
    const audit = anAuditReport({ pending: { firehoseLines: 0, deadLetters: 3, warehouseUnrefreshed: 0 } });
    await writeJson(emu.s3, bucket, AUDIT_RESULT_KEY, audit);
    // Act
    const all = await data();
    const netherlands = await data({ country: 'Netherlands', to: '2011-11-14' });
    // Assess
    expect(all.statusCode).toBe(200);
    expect(all.body.refreshedAt).toBe(snapshot.refreshedAt);
    expect(all.body.revenue.daily).toEqual([
      { day: '2011-11-14', revenue: 0.3 },
      { day: '2011-11-15', revenue: 7 },
    ]);
    expect(all.body.health).toMatchObject({ deadLetters: 3, audit: { agrees: true }, unavailable: [] });
    expect(netherlands.body.filter).toEqual({ country: 'Netherlands', to: '2011-11-14' });
    expect(netherlands.body.revenue.total).toBe(0.1);
  });

  it('answers a new snapshot as soon as a refresh has replaced the old one', async () => {
    await writeJson(
      emu.s3,
      bucket,
      DASHBOARD_SNAPSHOT_KEY,
      aSnapshot({ dailyCountryRevenue: [aDailyRow({ revenue: 1 })] }),
    );
    expect((await data()).body.revenue.total).toBe(1);
    await writeJson(
      emu.s3,
      bucket,
      DASHBOARD_SNAPSHOT_KEY,
      aSnapshot({ dailyCountryRevenue: [aDailyRow({ revenue: 2 })] }),
    );
    expect((await data()).body.revenue.total).toBe(2);
  });

  it('reads an unchanged snapshot once: later requests only ask S3 for its ETag', async () => {
    // Prepare
    await writeJson(
      emu.s3,
      bucket,
      DASHBOARD_SNAPSHOT_KEY,
      aSnapshot({ dailyCountryRevenue: [aDailyRow({ revenue: 4 })] }),
    );
    const reads: string[] = [];
    const restore = interceptCommand<GetObjectCommandInput, GetObjectCommandOutput>(
      deps.s3,
      'GetObjectCommand',
      (input, next) => {
        reads.push(input.Key ?? '');
        return next(input);
      },
    );
    // Act
    const answers = [await data(), await data({ country: 'United Kingdom' }), await data()];
    restore();
    // Assess
    expect(answers.map((a) => a.body.revenue.total)).toEqual([4, 4, 4]);
    expect(reads.filter((key) => key === DASHBOARD_SNAPSHOT_KEY)).toHaveLength(1);
  });

  it('names the snapshot as down, with 200, when it is of another version', async () => {
    await writeJson(emu.s3, bucket, DASHBOARD_SNAPSHOT_KEY, { ...aSnapshot(), version: 0 });
    await writeJson(emu.s3, bucket, AUDIT_RESULT_KEY, anAuditReport());
    const { statusCode, body } = await data();
    expect(statusCode).toBe(200);
    expect(body.refreshedAt).toBeNull();
    expect(body.health.unavailable).toEqual(['snapshot']);
    expect(body.health.audit).not.toBeNull();
  });

  it('names the snapshot and the audit as down, with 200, when S3 cannot be reached', async () => {
    // Prepare: the same API with an S3 endpoint nothing listens on.
    const config = loadApiConfig({
      ...emu.env,
      ECOMFLOW_S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
    });
    const down = { ...deps, config, s3: createS3Client(config.aws, fastClientOptions()) };
    // Act
    const { statusCode, body } = await data(undefined, () => down);
    // Assess
    expect(statusCode).toBe(200);
    expect(body.health.unavailable).toEqual(['audit', 'snapshot']);
  });

  it.each([
    [{ from: '2011-13-01' }, 'from'],
    [{ from: '2011-12-01', to: '2011-11-30' }, 'from'],
    [{ to: 'yesterday' }, 'to'],
    [{ country: 'N'.repeat(257) }, 'country'],
  ])('answers 400 naming the parameter for %j', async (query, parameter) => {
    const { statusCode, body } = await data(query);
    expect(statusCode).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_parameter', parameter });
    expect(String(body['message'])).toContain(parameter);
  });
});

describe('GET /dashboard/auth-config.json', () => {
  const SIGN_IN = {
    domain: 'ecomflow-test-123.auth.eu-west-1.amazoncognito.com',
    clientId: 'reader-client',
    redirectUri: 'https://api.example/test/',
    scope: 'openid email ecomflow/read',
  };
  const event = apiEvent({ resource: '/dashboard/{file}', params: { file: SIGN_IN_CONFIG_FILE } });

  it("answers the sign-in script's configuration where the deployment has Cognito", async () => {
    const answer = await call(event, () => ({ ...deps, config: { ...deps.config, signIn: SIGN_IN } }));
    expect([answer.statusCode, JSON.parse(answer.body)]).toEqual([200, SIGN_IN]);
  });

  it('answers 404 where it has none (auth=apiKey)', async () => {
    const answer = await call(event);
    expect(answer.statusCode).toBe(404);
  });
});

describe('GET / and GET /dashboard/{file}', () => {
  it('serves the page at / and each of its files with its content type', async () => {
    // Act
    const page = await call(apiEvent({ resource: '/' }));
    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['Content-Type']).toBe(DASHBOARD_ASSETS[DASHBOARD_PAGE]!.contentType);
    expect(page.body).toBe(readFileSync(join(ROOT, DASHBOARD_ASSETS[DASHBOARD_PAGE]!.path), 'utf8'));
    for (const [file, asset] of Object.entries(DASHBOARD_ASSETS)) {
      const answer = await call(apiEvent({ resource: '/dashboard/{file}', params: { file } }));
      expect([file, answer.statusCode, answer.headers?.['Content-Type']]).toEqual([
        file,
        200,
        asset.contentType,
      ]);
    }
  });

  it("serves chart.js's UMD build from node_modules as /dashboard/chart.umd.js", async () => {
    const answer = await call(apiEvent({ resource: '/dashboard/{file}', params: { file: 'chart.umd.js' } }));
    expect(answer.body).toBe(readFileSync(join(ROOT, CHART_JS_FILE), 'utf8'));
  });

  it.each([
    '../package.json',
    '../../../package.json',
    '/etc/passwd',
    'assets/index.html',
    'sign-in.js',
    'constructor',
    'chart.umd.js.map',
  ])('answers 404 for %j, which is not one of its files', async (file) => {
    const answer = await call(apiEvent({ resource: '/dashboard/{file}', params: { file } }));
    expect(answer.statusCode).toBe(404);
    expect(answer.body).not.toContain('"name"');
  });
});
