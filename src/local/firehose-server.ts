/**
 * A minimal Amazon Data Firehose endpoint for the local stack: it speaks the JSON 1.1 protocol of
 * `PutRecord` and `PutRecordBatch` (what `@aws-sdk/client-firehose` sends), validates requests as the
 * service does, and hands each request's accepted records to `deliver`. Buffering, Parquet conversion and
 * warehouse loads belong behind `deliver`; this file only speaks the wire protocol.
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

export const FIREHOSE_SERVER_LIMITS = {
  maxRecords: 500,
  maxRecordBytes: 1000 * 1024,
  maxRequestBytes: 4 * 1024 * 1024,
  /** The JSON body itself: base64 grows data by 4/3, plus framing. */
  maxBodyBytes: 6 * 1024 * 1024,
} as const;

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
  return (req, res) => {
    handle(req, counted).then(
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

async function handle(req: IncomingMessage, options: FirehoseServerOptions): Promise<unknown> {
  if (req.method !== 'POST')
    throw new FirehoseProtocolError('UnknownOperationException', `${req.method} is not supported`, 405);
  const target = String(req.headers['x-amz-target'] ?? '');
  if (!target.startsWith(TARGET_PREFIX)) {
    throw new FirehoseProtocolError(
      'UnknownOperationException',
      `X-Amz-Target ${JSON.stringify(target)} is not a Firehose operation`,
    );
  }
  const operation = target.slice(TARGET_PREFIX.length);
  const body = await readJson(req);
  const deliveryStream = streamName(body, options);
  if (operation === 'PutRecord') {
    const data = recordData((body as { Record?: unknown }).Record, 0);
    await options.deliver(deliveryStream, [data]);
    return { RecordId: recordId(), Encrypted: false };
  }
  if (operation === 'PutRecordBatch') return putRecordBatch(body, deliveryStream, options);
  throw new FirehoseProtocolError(
    'UnknownOperationException',
    `operation ${operation} is not supported locally`,
  );
}

async function putRecordBatch(
  body: unknown,
  deliveryStream: string,
  options: FirehoseServerOptions,
): Promise<unknown> {
  const records = (body as { Records?: unknown }).Records;
  if (!Array.isArray(records) || records.length < 1 || records.length > FIREHOSE_SERVER_LIMITS.maxRecords) {
    throw new FirehoseProtocolError(
      'ValidationException',
      `Records must be a list of 1 to ${FIREHOSE_SERVER_LIMITS.maxRecords} records, got ${Array.isArray(records) ? records.length : typeof records}`,
    );
  }
  const data = records.map((r, i) => recordData(r, i));
  const total = data.reduce((n, d) => n + d.byteLength, 0);
  if (total > FIREHOSE_SERVER_LIMITS.maxRequestBytes) {
    throw new FirehoseProtocolError(
      'InvalidArgumentException',
      `records total ${total} bytes, over the ${FIREHOSE_SERVER_LIMITS.maxRequestBytes}-byte limit of a request`,
    );
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

function streamName(body: unknown, options: FirehoseServerOptions): string {
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
      `Firehose ${name} under this account is not found.`,
    );
  }
  return name;
}

function recordData(record: unknown, index: number): Buffer {
  const data = (record as { Data?: unknown } | null)?.Data;
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) {
    throw new FirehoseProtocolError('SerializationException', `record ${index} has no base64 Data`);
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.byteLength > FIREHOSE_SERVER_LIMITS.maxRecordBytes) {
    throw new FirehoseProtocolError(
      'ValidationException',
      `record ${index} is ${bytes.byteLength} bytes, over the ${FIREHOSE_SERVER_LIMITS.maxRecordBytes}-byte limit`,
    );
  }
  return bytes;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > FIREHOSE_SERVER_LIMITS.maxBodyBytes) {
      throw new FirehoseProtocolError(
        'InvalidArgumentException',
        `request body is over ${FIREHOSE_SERVER_LIMITS.maxBodyBytes} bytes`,
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
