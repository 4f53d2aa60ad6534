/**
 * One answer to 5xx: every adapter error class, thrown under a route, reaches the client as a 503 with the
 * code ADAPTER_FAILURE_ANSWERS gives it and Retry-After, never as a 500, and never with the cause's text.
 * A client's mistake stays a 4xx, and only a bug of ours is a 500.
 *
 * The fault is injected where a route asks for its services (`deps()`), through the real handler and its
 * middleware: no emulator can be made to fail with each of these classes on demand.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { jest } from '@jest/globals';
import {
  ADAPTER_ERROR_CODES,
  AdapterError,
  type AdapterErrorCode,
  DynamoReadError,
  DynamoWriteError,
  FirehosePutError,
  FunctionInvokeError,
  KinesisPutError,
  LakeDeleteError,
  QuarantineWriteError,
  StreamRangeGoneError,
} from '../../src/adapters/errors.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { ADAPTER_FAILURE_ANSWERS, BadRequestError } from '../../src/api/errors.js';
import { isPrivate, ROUTES } from '../../src/api/routes.js';
import { createApiHandler } from '../../src/handlers/api.js';
import { apiEvent, lambdaContext } from '../helpers/events.js';

const SECRET = 'arn:aws:secret-resource-name';

/** One instance of every adapter error class, built as the adapters build them. */
const ADAPTER_ERRORS: readonly AdapterError[] = [
  new KinesisPutError(
    SECRET,
    [true, false],
    [{ index: 1, errorCode: 'Throttled', errorMessage: 'slow down' }],
    3,
  ),
  new DynamoWriteError(SECRET, [0], 3),
  new DynamoReadError(SECRET, 'ProvisionedThroughputExceededException'),
  new FirehosePutError(SECRET, 2, [{ index: 0, errorCode: 'ServiceUnavailable', errorMessage: 'busy' }], 3),
  new QuarantineWriteError(SECRET, 'quarantine/x.ndjson', 2),
  new StreamRangeGoneError(SECRET, 'shardId-000000000000', 'ExpiredIteratorException'),
  new FunctionInvokeError(SECRET, 'TooManyRequestsException'),
  new LakeDeleteError(SECRET, [{ key: 'lake/x.parquet', code: 'AccessDenied', message: 'denied' }]),
  // The SQS and Kinesis adapters throw the base class with these codes (src/adapters/sqs.ts, kinesis.ts).
  new AdapterError('queue_delete_failed', 'sqs', SECRET, 'message m-1 was not received in this run'),
  new AdapterError(
    'stream_read_failed',
    'kinesis',
    SECRET,
    'DescribeStreamSummary gave no RetentionPeriodHours',
  ),
];

/** A handler whose every service fails with `error` when a route asks for it. */
function failingHandler(error: unknown) {
  const log = new Logger({ serviceName: 'ecomflow-test' });
  for (const level of ['info', 'warn', 'error'] as const) jest.spyOn(log, level).mockImplementation(() => {});
  return createApiHandler((): ApiDeps => {
    throw error;
  }, log);
}

/** Every route that uses a service (the private ones), with parameters that pass its own checks. */
const SERVICE_ROUTES = ROUTES.filter(isPrivate);
const PARAMS: Record<string, string> = { invoiceNo: '536365', stockCode: '85123A', customerId: '17850' };

function eventFor(route: (typeof ROUTES)[number]) {
  const params = Object.fromEntries(
    [...route.resource.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, PARAMS[name!]!]),
  );
  return apiEvent({ method: route.method, resource: route.resource, params });
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('adapter errors and their answers', () => {
  it('has an instance of every adapter error code in this test', () => {
    const codes = new Set(ADAPTER_ERRORS.map((e) => e.code));
    expect([...codes].sort()).toEqual(Object.keys(ADAPTER_ERROR_CODES).sort());
    expect(Object.keys(ADAPTER_FAILURE_ANSWERS).sort()).toEqual(Object.keys(ADAPTER_ERROR_CODES).sort());
  });

  it.each(ADAPTER_ERRORS.map((error) => ({ name: `${error.name} (${error.code})`, error })))(
    '$name under GET /invoices/{invoiceNo} answers 503 with its code and Retry-After',
    async ({ error }) => {
      // Act
      const result = await failingHandler(error)(
        apiEvent({ resource: '/invoices/{invoiceNo}', params: { invoiceNo: '536365' } }),
        lambdaContext(),
      );

      // Assess
      const expected = ADAPTER_FAILURE_ANSWERS[error.code as AdapterErrorCode];
      expect(result.statusCode).toBe(503);
      expect(result.headers?.['Retry-After']).toBe('1');
      expect(JSON.parse(result.body)).toEqual({ error: expected.error, message: expected.message });
      // The resource's name and the service's words stay in the log.
      expect(result.body).not.toContain(SECRET);
    },
  );

  it.each(SERVICE_ROUTES.map((route) => ({ name: `${route.method} ${route.resource}`, route })))(
    '$name answers 503, not 500, when its service fails',
    async ({ route }) => {
      const result = await failingHandler(new DynamoReadError(SECRET, 'down'))(
        eventFor(route),
        lambdaContext(),
      );
      expect(result.statusCode).toBe(503);
    },
  );

  it('keeps a client mistake a 4xx, and a bug of ours a 500 that says nothing of it', async () => {
    // Act
    const mistake = await failingHandler(new BadRequestError('invalid_parameter', 'bad'))(
      eventFor(SERVICE_ROUTES[0]!),
      lambdaContext(),
    );
    const bug = await failingHandler(new TypeError(`cannot read ${SECRET}`))(
      eventFor(SERVICE_ROUTES[0]!),
      lambdaContext(),
    );

    // Assess
    expect(mistake.statusCode).toBe(400);
    expect(bug.statusCode).toBe(500);
    expect(JSON.parse(bug.body).error).toBe('internal_error');
    expect(bug.body).not.toContain(SECRET);
  });
});
