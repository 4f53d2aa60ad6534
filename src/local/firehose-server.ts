/**
 * A minimal Amazon Data Firehose endpoint for the local stack: it speaks the JSON 1.1 protocol of
 * `PutRecord`, `PutRecordBatch`, `ListDeliveryStreams` and `DescribeDeliveryStream` (what
 * `@aws-sdk/client-firehose` and the AWS CLI send), validates requests as the service does, and hands each
 * request's accepted records to `deliver`. Buffering, Parquet conversion and warehouse loads belong behind
 * `deliver`; this file only speaks the wire protocol.
 *
 * Signatures are not checked: any credentials work.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { FIREHOSE_LIMITS } from '../adapters/firehose.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../config/aws.js';
import { EcomflowError } from '../errors.js';

/** Receives the records of one request, in order, for one delivery stream. */
export type Deliver = (deliveryStream: string, records: Buffer[]) => void | Promise<void>;

/** Why an entry failed, as PutRecordBatch reports it. */
export interface EntryError {
  errorCode: string;
  errorMessage: string;
}

export interface FirehoseServerOptions {
  deliver: Deliver;
  /** Known delivery streams; a request to another gets ResourceNotFoundException. Absent: any name. */
  streams?: readonly string[];
  /**
   * Fault injection: return an error to fail one entry of a PutRecordBatch the way Firehose does (listed in
   * RequestResponses, counted in FailedPutCount, not delivered).
   */
  failRecord?: (deliveryStream: string, data: Buffer, index: number) => EntryError | undefined;
  /** The region and account of the ARNs DescribeDeliveryStream answers with (LOCAL_REGION, LOCAL_ACCOUNT_ID). */
  region?: string;
  account?: string;
}

/**
 * What each delivery stream took in: records, their bytes, and the bytes Firehose bills for them. Firehose
 * bills ingestion per record rounded up to the next 5 KB, so packing shows as billed bytes near actual ones.
 */
export interface IngestCounters {
  records: number;
  bytes: number;
  billedBytes: number;
}

/** Firehose's billing increment for ingestion: each record is rounded up to a multiple of 5 KB. */
export const FIREHOSE_BILLING_INCREMENT_BYTES = 5 * 1024;

/** The bytes Firehose bills for a record of `bytes`. */
export function billedBytes(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / FIREHOSE_BILLING_INCREMENT_BYTES)) * FIREHOSE_BILLING_INCREMENT_BYTES;
}

/** The length of `bytes` bytes in base64. */
function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/**
 * The service's limits (FIREHOSE_LIMITS, what the client side packs to), from the PutRecordBatch API
 * reference (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html): "Each
 * PutRecordBatch request supports up to 500 records. Each record in the request can be as large as 1,000 KB
 * (before base64 encoding), up to a limit of 4 MB for the entire request. These limits cannot be changed."
 * The model bounds a record's Data at 1,024,000 bytes; the 4 MB is 4 MiB of decoded data.
 */
export const FIREHOSE_SERVER_LIMITS = {
  maxRecords: FIREHOSE_LIMITS.maxRecordsPerRequest,
  maxRecordBytes: FIREHOSE_LIMITS.maxRecordBytes,
  maxRequestBytes: FIREHOSE_LIMITS.maxRequestBytes,
  /**
   * Only a guard on the memory one request takes, never the rule a client meets: the JSON body of a request
   * at the 4 MiB limit is 4/3 of it in base64 plus framing, and twice that lets a request over the limit by
   * as much again still get the documented InvalidArgumentException, not this guard's 413.
   */
  maxBodyBytes: 2 * base64Length(FIREHOSE_LIMITS.maxRequestBytes),
} as const;

/** ListDeliveryStreams' `Limit`: 10 when absent, at most 10,000 (the API reference's bounds). */
export const LIST_DELIVERY_STREAMS_LIMIT = { default: 10, max: 10_000 } as const;

const TARGET_PREFIX = 'Firehose_20150804.';
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/** A request the service refuses, as `{ __type, message }` with an HTTP status. */
class FirehoseProtocolError extends EcomflowError {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    // The code is the Firehose exception name the stand-in answers with, e.g. InvalidArgumentException.
    super(type, message);
    this.name = 'FirehoseProtocolError';
  }
}

/** The request listener alone, to mount on an existing server. */
export function firehoseRequestListener(
  options: FirehoseServerOptions,
  counters: Map<string, IngestCounters> = new Map(),
): RequestListener {
  const counted: FirehoseServerOptions = {
    ...options,
    deliver: async (stream, records) => {
      await options.deliver(stream, records);
      // Counted once accepted: a request the destination refused fails its entries, and is sent again.
      const c = counters.get(stream) ?? { records: 0, bytes: 0, billedBytes: 0 };
      for (const r of records) {
        c.records++;
        c.bytes += r.byteLength;
        c.billedBytes += billedBytes(r.byteLength);
      }
      counters.set(stream, c);
    },
  };
  // What DescribeDeliveryStream gives as every stream's CreateTimestamp: the stand-in's streams exist from
  // its start.
  const created = new Date();
  return (req, res) => {
    handle(req, counted, created).then(
      (body) => send(res, 200, body),
      (error: unknown) => {
        if (error instanceof FirehoseProtocolError) {
          send(res, error.status, { __type: error.type, message: error.message }, error.type);
        } else {
          const message = error instanceof Error ? error.message : String(error);
          send(res, 500, { __type: 'ServiceUnavailableException', message }, 'ServiceUnavailableException');
        }
      },
    );
  };
}

export interface FirehoseServer {
  /** `http://127.0.0.1:<port>`: the endpoint to give the SDK. */
  url: string;
  /** Accepted records per delivery stream, with their actual and billed bytes. */
  counters: ReadonlyMap<string, IngestCounters>;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/**
 * Starts the endpoint on `port` (0: a free port).
 * @example const fh = await startFirehoseServer({ deliver: (s, rs) => console.log(s, rs.length) });
 */
export async function startFirehoseServer(
  options: FirehoseServerOptions & { host?: string; port?: number },
): Promise<FirehoseServer> {
  const counters = new Map<string, IngestCounters>();
  const server = createServer(firehoseRequestListener(options, counters));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    counters,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

type Operation = (body: object, options: FirehoseServerOptions, created: Date) => Promise<unknown>;

/**
 * The operations the stand-in speaks, by X-Amz-Target. Each validates its own input, so one that takes no
 * stream name (ListDeliveryStreams) is never asked for one.
 */
const OPERATIONS: Readonly<Record<string, Operation>> = {
  PutRecord: async (body, options) => {
    const deliveryStream = streamName(body, options);
    const data = recordData((body as { Record?: unknown }).Record, 'record');
    if (data.byteLength > FIREHOSE_SERVER_LIMITS.maxRecordBytes)
      throw validationError([recordTooLarge(data, 'record.data')]);
    await options.deliver(deliveryStream, [data]);
    return { RecordId: recordId(), Encrypted: false };
  },
  PutRecordBatch: (body, options) => putRecordBatch(body, streamName(body, options), options),
  ListDeliveryStreams: async (body, options) => listDeliveryStreams(body, options),
  DescribeDeliveryStream: async (body, options, created) =>
    describeDeliveryStream(streamName(body, options), options, created),
};

async function handle(req: IncomingMessage, options: FirehoseServerOptions, created: Date): Promise<unknown> {
  if (req.method !== 'POST')
    throw new FirehoseProtocolError('UnknownOperationException', `${req.method} is not supported`, 405);
  const target = String(req.headers['x-amz-target'] ?? '');
  if (!target.startsWith(TARGET_PREFIX)) {
    throw new FirehoseProtocolError(
      'UnknownOperationException',
      `X-Amz-Target ${JSON.stringify(target)} is not a Firehose operation`,
    );
  }
  const name = target.slice(TARGET_PREFIX.length);
  const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
  if (!operation) {
    throw new FirehoseProtocolError(
      'UnknownOperationException',
      `operation ${name} is not supported locally`,
    );
  }
  return operation(await readJson(req), options, created);
}

/** The configured streams, sorted, from after `ExclusiveStartDeliveryStreamName`, `Limit` at a time. */
function listDeliveryStreams(body: object, options: FirehoseServerOptions): unknown {
  const input = body as {
    Limit?: unknown;
    DeliveryStreamType?: unknown;
    ExclusiveStartDeliveryStreamName?: unknown;
  };
  const limit = input.Limit ?? LIST_DELIVERY_STREAMS_LIMIT.default;
  if (
    !Number.isInteger(limit) ||
    (limit as number) < 1 ||
    (limit as number) > LIST_DELIVERY_STREAMS_LIMIT.max
  ) {
    const bound =
      (limit as number) < 1
        ? 'greater than or equal to 1'
        : `less than or equal to ${LIST_DELIVERY_STREAMS_LIMIT.max}`;
    throw validationError([
      `Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value ${bound}`,
    ]);
  }
  const start = input.ExclusiveStartDeliveryStreamName;
  // Every stream of the stand-in takes records directly, as DirectPut streams do.
  const type = input.DeliveryStreamType ?? DELIVERY_STREAM_TYPE;
  const names = type === DELIVERY_STREAM_TYPE ? [...(options.streams ?? [])].sort() : [];
  const after = typeof start === 'string' ? names.filter((n) => n > start) : names;
  return {
    DeliveryStreamNames: after.slice(0, limit as number),
    HasMoreDeliveryStreams: after.length > (limit as number),
  };
}

const DELIVERY_STREAM_TYPE = 'DirectPut';

/** The fields of a DeliveryStreamDescription a client reads, for a stream that is always ACTIVE. */
function describeDeliveryStream(name: string, options: FirehoseServerOptions, created: Date): unknown {
  const region = options.region ?? LOCAL_REGION;
  const account = options.account ?? LOCAL_ACCOUNT_ID;
  return {
    DeliveryStreamDescription: {
      DeliveryStreamName: name,
      DeliveryStreamARN: `arn:aws:firehose:${region}:${account}:deliverystream/${name}`,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
      DeliveryStreamType: DELIVERY_STREAM_TYPE,
      VersionId: '1',
      // JSON 1.1 timestamps are epoch seconds.
      CreateTimestamp: created.getTime() / 1000,
      // One destination, named as Firehose names its first; what lies behind it is the deliver callback's.
      Destinations: [{ DestinationId: 'destinationId-000000000001' }],
      HasMoreDestinations: false,
    },
  };
}

async function putRecordBatch(
  body: object,
  deliveryStream: string,
  options: FirehoseServerOptions,
): Promise<unknown> {
  const data = batchData((body as { Records?: unknown }).Records);
  const total = data.reduce((n, d) => n + d.byteLength, 0);
  if (total > FIREHOSE_SERVER_LIMITS.maxRequestBytes) {
    // The service's own words for a request over 4 MiB of data.
    throw new FirehoseProtocolError('InvalidArgumentException', 'Records size exceeds 4 MB limit');
  }
  const responses: ({ RecordId: string } | { ErrorCode: string; ErrorMessage: string })[] = [];
  const accepted: Buffer[] = [];
  data.forEach((d, i) => {
    const failure = options.failRecord?.(deliveryStream, d, i);
    if (failure) {
      responses.push({ ErrorCode: failure.errorCode, ErrorMessage: failure.errorMessage });
    } else {
      responses.push({ RecordId: recordId() });
      accepted.push(d);
    }
  });
  if (accepted.length > 0) {
    try {
      await options.deliver(deliveryStream, accepted);
    } catch (error) {
      // The destination refused: as Firehose does on an internal failure, fail the entries, not the request.
      const message = error instanceof Error ? error.message : String(error);
      for (let i = 0; i < responses.length; i++) {
        if ('RecordId' in responses[i]!)
          responses[i] = { ErrorCode: 'ServiceUnavailableException', ErrorMessage: message };
      }
    }
  }
  const failed = responses.filter((r) => 'ErrorCode' in r).length;
  return { FailedPutCount: failed, Encrypted: false, RequestResponses: responses };
}

function streamName(body: object, options: FirehoseServerOptions): string {
  const name = (body as { DeliveryStreamName?: unknown }).DeliveryStreamName;
  if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
    throw new FirehoseProtocolError(
      'ValidationException',
      `DeliveryStreamName ${JSON.stringify(name)} is not a valid name`,
    );
  }
  if (options.streams && !options.streams.includes(name)) {
    throw new FirehoseProtocolError(
      'ResourceNotFoundException',
      `Firehose ${name} under account ${options.account ?? LOCAL_ACCOUNT_ID} not found.`,
    );
  }
  return name;
}

/**
 * The decoded records of a PutRecordBatch, after the model's constraints: 1 to 500 records, each at most
 * 1,024,000 bytes. Every violation is listed in one ValidationException, worded as the service words them.
 */
function batchData(records: unknown): Buffer[] {
  if (records === undefined || records === null)
    throw validationError(["Value null at 'records' failed to satisfy constraint: Member must not be null"]);
  if (!Array.isArray(records))
    throw new FirehoseProtocolError('SerializationException', `Records is a ${typeof records}, not a list`);
  const errors: string[] = [];
  const { maxRecords, maxRecordBytes } = FIREHOSE_SERVER_LIMITS;
  if (records.length < 1)
    errors.push(
      "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  if (records.length > maxRecords) {
    errors.push(
      `Value '[${records.length} records]' at 'records' failed to satisfy constraint: Member must have length less than or equal to ${maxRecords}`,
    );
  }
  const data = records.map((r, i) => recordData(r, `record ${i}`));
  data.forEach((d, i) => {
    if (d.byteLength > maxRecordBytes) errors.push(recordTooLarge(d, `records.${i + 1}.member.data`));
  });
  if (errors.length > 0) throw validationError(errors);
  return data;
}

/** A constraint violation of a record's Data, as the service renders the value (a Java ByteBuffer). */
function recordTooLarge(data: Buffer, path: string): string {
  const n = data.byteLength;
  return `Value 'java.nio.HeapByteBuffer[pos=0 lim=${n} cap=${n}]' at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_SERVER_LIMITS.maxRecordBytes}`;
}

function validationError(errors: readonly string[]): FirehoseProtocolError {
  const count = `${errors.length} validation error${errors.length === 1 ? '' : 's'} detected`;
  return new FirehoseProtocolError('ValidationException', `${count}: ${errors.join('; ')}`);
}

function recordData(record: unknown, name: string): Buffer {
  const data = (record as { Data?: unknown } | null)?.Data;
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) {
    throw new FirehoseProtocolError('SerializationException', `${name} has no base64 Data`);
  }
  return Buffer.from(data, 'base64');
}

async function readJson(req: IncomingMessage): Promise<object> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > FIREHOSE_SERVER_LIMITS.maxBodyBytes) {
      throw new FirehoseProtocolError(
        'InvalidArgumentException',
        `request body is over ${FIREHOSE_SERVER_LIMITS.maxBodyBytes} bytes, far over the 4 MB limit of a request's records`,
        413,
      );
    }
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value;
  } catch {
    throw new FirehoseProtocolError('SerializationException', 'request body is not a JSON object');
  }
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  res.end(text);
}

/** A record id shaped like Firehose's (opaque, 112 hex digits). */
function recordId(): string {
  return randomBytes(56).toString('hex');
}
