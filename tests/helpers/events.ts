/** Builders of Lambda events and contexts, shaped as API Gateway (REST, proxy) and Kinesis send them. */
import type { APIGatewayProxyEvent, Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { quarantineKey } from '../../src/core/quarantine.js';
import { lambdaContext as buildContext } from '../../src/local/lambda-context.js';
import { kinesisStreamRecord } from '../../src/stream/kinesis-event.js';

export interface ApiEventOptions {
  method?: string;
  /** The API Gateway resource, e.g. `/invoices/{invoiceNo}`. */
  resource: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body base64-encoded, as API Gateway does for binary media types. Default: for Buffers. */
  base64?: boolean;
  requestId?: string;
}

let requestCounter = 0;

/**
 * A REST API proxy event for one of the declared resources. The path is the resource with its
 * parameters percent-encoded; `pathParameters` are decoded, as API Gateway gives them.
 */
export function apiEvent(options: ApiEventOptions): APIGatewayProxyEvent {
  const params = options.params ?? {};
  const path = options.resource.replace(/\{(\w+)(\+?)\}/g, (_, name: string, greedy: string) =>
    greedy
      ? (params[name] ?? '').split('/').map(encodeURIComponent).join('/')
      : encodeURIComponent(params[name] ?? ''),
  );
  const base64 = options.base64 ?? Buffer.isBuffer(options.body);
  const body =
    options.body === undefined
      ? null
      : base64
        ? Buffer.from(options.body).toString('base64')
        : options.body.toString();
  const requestId = options.requestId ?? `req-${++requestCounter}-${Date.now()}`;
  return {
    resource: options.resource,
    path,
    httpMethod: options.method ?? 'GET',
    headers: options.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: Object.keys(params).length > 0 ? params : null,
    stageVariables: null,
    body,
    isBase64Encoded: base64,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: options.method ?? 'GET',
      identity: {} as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/test${path}`,
      stage: 'test',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'r',
      resourcePath: options.resource,
    },
  };
}

/** POST /ingest with a body of the given type. */
export function ingestEvent(
  contentType: string,
  body: string | Buffer,
  extra: Partial<ApiEventOptions> = {},
) {
  return apiEvent({
    method: 'POST',
    resource: '/ingest',
    headers: { 'Content-Type': contentType },
    body,
    ...extra,
  });
}

/** The context of a test invocation: the local stack's builder, with a test function name and region. */
export function lambdaContext(requestId = 'ctx-request'): Context {
  return buildContext('ecomflow-test', requestId, {
    region: 'us-east-1',
    account: '123456789012',
    budgetMs: 30_000,
  });
}

export interface KinesisRecordOptions {
  data: string | Uint8Array;
  sequenceNumber: string;
  partitionKey?: string;
  shardId?: string;
  /** When it reached the stream; the default is a fixed day, so keys derived from it are stable. */
  arrival?: Date;
}

/** The arrival day of the records `kinesisRecord` builds unless told otherwise. */
export const KINESIS_ARRIVAL = new Date('2026-12-03T10:00:00Z');

/** One Kinesis record as Lambda delivers it (data base64-encoded). */
export function kinesisRecord(options: KinesisRecordOptions): KinesisStreamRecord {
  return kinesisStreamRecord({
    data: options.data,
    sequenceNumber: options.sequenceNumber,
    partitionKey: options.partitionKey ?? 'pk',
    shardId: options.shardId ?? 'shardId-000000000000',
    streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/ecomflow-test',
    region: 'us-east-1',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/ecomflow-transform',
    arrival: options.arrival ?? KINESIS_ARRIVAL,
  });
}

/** The quarantine key the transformer writes for a record of `kinesisRecord` (prefix included). */
export function streamQuarantineKey(
  prefix: string,
  sequenceNumber: string,
  shardId = 'shardId-000000000000',
): string {
  return `${prefix}${quarantineKey('stream', KINESIS_ARRIVAL.toISOString().slice(0, 10), `${shardId}-${sequenceNumber}`)}`;
}

export function kinesisEvent(records: KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: records };
}

export interface InvocationRecordOptions {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  streamArn: string;
  batchSize?: number;
  /** When the first and last records arrived; default now. */
  firstArrival?: Date;
  lastArrival?: Date;
}

/**
 * What the Kinesis event source mapping sends its on-failure destination (an SQS DLQ) for a batch it gave
 * up on, shaped as AWS's example (Lambda Developer Guide, kinesis-on-failure-destination): a pointer to
 * the records, not the records.
 */
export function kinesisInvocationRecord(options: InvocationRecordOptions): Record<string, unknown> {
  const first = options.firstArrival ?? new Date();
  return {
    requestContext: {
      requestId: 'c9b8fa9f-5a7f-4a6d-af9c-0c604cde93a5',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ecomflow-test-transform',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 6,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KinesisBatchInfo: {
      shardId: options.shardId,
      startSequenceNumber: options.startSequenceNumber,
      endSequenceNumber: options.endSequenceNumber,
      approximateArrivalOfFirstRecord: first.toISOString(),
      approximateArrivalOfLastRecord: (options.lastArrival ?? first).toISOString(),
      batchSize: options.batchSize ?? 1,
      streamArn: options.streamArn,
    },
  };
}
