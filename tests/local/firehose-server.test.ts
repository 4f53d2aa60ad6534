import {
  DescribeDeliveryStreamCommand,
  DescribeDeliveryStreamOutput$,
  FirehoseClient,
  ListDeliveryStreamsCommand,
  ListDeliveryStreamsOutput$,
  PutRecordBatchCommand,
  PutRecordBatchOutput$,
  PutRecordCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-firehose';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../src/config/aws.js';
import {
  billedBytes,
  type Deliver,
  FIREHOSE_BILLING_INCREMENT_BYTES,
  FIREHOSE_SERVER_LIMITS,
  type FirehoseServer,
  LIST_DELIVERY_STREAMS_LIMIT,
  startFirehoseServer,
} from '../../src/local/firehose-server.js';

const { maxRecords, maxRecordBytes, maxRequestBytes, maxBodyBytes } = FIREHOSE_SERVER_LIMITS;

/** Records of `size` bytes each, for the SDK. */
const records = (count: number, size: number) =>
  Array.from({ length: count }, () => ({ Data: Buffer.alloc(size, 0x61) }));

/** A raw JSON 1.1 call, for what the SDK would refuse to send or would hide. */
async function call(url: string, operation: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'X-Amz-Target': `Firehose_20150804.${operation}`,
      'Content-Type': 'application/x-amz-json-1.1',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

let server: FirehoseServer;
let client: FirehoseClient;
let received: [string, string[]][];
let deliver: Deliver;

beforeEach(async () => {
  received = [];
  deliver = (stream, records) => {
    received.push([stream, records.map((r) => r.toString('utf8'))]);
  };
  server = await startFirehoseServer({ streams: ['lake', 'warehouse'], deliver: (s, r) => deliver(s, r) });
  client = new FirehoseClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
    maxAttempts: 1,
  });
});
afterEach(async () => {
  client.destroy();
  await server.close();
});

describe('the local Firehose endpoint, driven by @aws-sdk/client-firehose', () => {
  it('answers PutRecordBatch like AWS and hands the records to deliver, decoded, in order', async () => {
    const out = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'lake',
        Records: [{ Data: Buffer.from('{"a":1}\n') }, { Data: Buffer.from('{"a":2}\n') }],
      }),
    );
    expect(out.FailedPutCount).toBe(0);
    expect(out.Encrypted).toBe(false);
    expect(out.RequestResponses).toHaveLength(2);
    expect(out.RequestResponses?.every((r) => /^[0-9a-f]{112}$/.test(r.RecordId ?? ''))).toBe(true);
    expect(received).toEqual([['lake', ['{"a":1}\n', '{"a":2}\n']]]);
  });

  it('answers PutRecord with a record id', async () => {
    const out = await client.send(
      new PutRecordCommand({ DeliveryStreamName: 'warehouse', Record: { Data: Buffer.from('x') } }),
    );
    expect(out.RecordId).toMatch(/^[0-9a-f]+$/);
    expect(received).toEqual([['warehouse', ['x']]]);
  });

  it('refuses an unknown stream with ResourceNotFoundException', async () => {
    const put = client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'other', Records: [{ Data: Buffer.from('x') }] }),
    );
    await expect(put).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(received).toEqual([]);
  });

  it('refuses an unknown stream as the service words it', async () => {
    const put = client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'other', Records: [{ Data: Buffer.from('x') }] }),
    );
    await expect(put).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: `Firehose other under account ${LOCAL_ACCOUNT_ID} not found.`,
    });
  });

  it('refuses more than 500 records in one request', async () => {
    const put = client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'lake',
        Records: Array.from({ length: 501 }, () => ({ Data: Buffer.from('x') })),
      }),
    );
    await expect(put).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('fails every entry (not the request) when deliver throws, so the client retries the entries', async () => {
    deliver = () => {
      throw new Error('disk full');
    };
    const out = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'lake',
        Records: [{ Data: Buffer.from('a') }, { Data: Buffer.from('b') }],
      }),
    );
    expect(out.FailedPutCount).toBe(2);
    expect(out.RequestResponses).toEqual([
      { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'disk full' },
      { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'disk full' },
    ]);
  });

  it('answers an unknown operation with UnknownOperationException', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'X-Amz-Target': 'Firehose_20150804.DeleteDeliveryStream',
        'Content-Type': 'application/x-amz-json-1.1',
      },
      body: JSON.stringify({ DeliveryStreamName: 'lake' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      __type: 'UnknownOperationException',
      message: 'operation DeleteDeliveryStream is not supported locally',
    });
  });
});

describe('the limits of a request, checked before any guard on the body', () => {
  // The 4 MiB rule answers for requests past where the old 6 MiB body guard cut in (about 4.5 MiB of data).
  it.each([
    {
      what: '501 records',
      records: records(maxRecords + 1, 1),
      type: 'ValidationException',
      message: `1 validation error detected: Value '[501 records]' at 'records' failed to satisfy constraint: Member must have length less than or equal to ${maxRecords}`,
    },
    {
      what: 'a record of 1,024,001 bytes',
      records: [...records(1, 1), ...records(1, maxRecordBytes + 1)],
      type: 'ValidationException',
      message: `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${maxRecordBytes + 1} cap=${maxRecordBytes + 1}]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to ${maxRecordBytes}`,
    },
    {
      what: 'two records over 1,024,000 bytes, both named',
      records: records(2, maxRecordBytes + 1),
      type: 'ValidationException',
      message: /^2 validation errors detected: .*'records\.1\.member\.data'.*; .*'records\.2\.member\.data'/,
    },
    {
      what: '4 MiB and one byte in 5 records',
      records: [...records(4, maxRecordBytes), ...records(1, maxRequestBytes - 4 * maxRecordBytes + 1)],
      type: 'InvalidArgumentException',
      message: 'Records size exceeds 4 MB limit',
    },
    {
      what: '4.8 MiB in 5 records (past the old body guard)',
      records: records(5, maxRecordBytes),
      type: 'InvalidArgumentException',
      message: 'Records size exceeds 4 MB limit',
    },
    {
      what: '4 MiB and one byte in 500 records (the most framing)',
      records: [
        ...records(maxRecords - 1, Math.floor(maxRequestBytes / maxRecords)),
        ...records(1, maxRequestBytes - (maxRecords - 1) * Math.floor(maxRequestBytes / maxRecords) + 1),
      ],
      type: 'InvalidArgumentException',
      message: 'Records size exceeds 4 MB limit',
    },
  ])('refuses $what with $type, status 400', async ({ records: rs, type, message }) => {
    // Act
    const put = client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'lake', Records: rs }));
    // Assess
    await expect(put).rejects.toMatchObject({ name: type, message, $metadata: { httpStatusCode: 400 } });
    expect(received).toEqual([]);
  });

  it('accepts a request of exactly 4 MiB, with records of exactly 1,024,000 bytes', async () => {
    const rs = [...records(4, maxRecordBytes), ...records(1, maxRequestBytes - 4 * maxRecordBytes)];
    const out = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'lake', Records: rs }));
    expect(out.FailedPutCount).toBe(0);
    expect(received[0]?.[1].map((r) => r.length)).toEqual(rs.map((r) => r.Data.length));
  });

  it('refuses PutRecord of a record over 1,024,000 bytes with ValidationException', async () => {
    const put = client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'lake',
        Record: { Data: Buffer.alloc(maxRecordBytes + 1) },
      }),
    );
    await expect(put).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining(`at 'record.data' failed to satisfy constraint`),
    });
  });

  it('keeps its body guard above a 4 MiB request in base64 with its framing', () => {
    const framing = maxRecords * '{"Data":""},'.length + 1024;
    expect(maxBodyBytes).toBeGreaterThan(Math.ceil(maxRequestBytes / 3) * 4 + framing);
  });

  it('answers a body over its guard with 413, without reading it into memory', async () => {
    const res = await call(server.url, 'PutRecordBatch', 'x'.repeat(maxBodyBytes + 1));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ __type: 'InvalidArgumentException' });
  });
});

describe('ListDeliveryStreams and DescribeDeliveryStream', () => {
  it('lists the configured streams, sorted, with no stream name in the request', async () => {
    // Act
    const out = await client.send(new ListDeliveryStreamsCommand({}));
    // Assess
    expect(out.DeliveryStreamNames).toEqual(['lake', 'warehouse']);
    expect(out.HasMoreDeliveryStreams).toBe(false);
  });

  it.each([
    { input: { Limit: 1 }, names: ['lake'], more: true },
    { input: { ExclusiveStartDeliveryStreamName: 'lake' }, names: ['warehouse'], more: false },
    { input: { Limit: 1, ExclusiveStartDeliveryStreamName: 'lake' }, names: ['warehouse'], more: false },
    { input: { DeliveryStreamType: 'DirectPut' as const }, names: ['lake', 'warehouse'], more: false },
    { input: { DeliveryStreamType: 'KinesisStreamAsSource' as const }, names: [], more: false },
  ])('pages and filters as the service does: $input', async ({ input, names, more }) => {
    const out = await client.send(new ListDeliveryStreamsCommand(input));
    expect(out.DeliveryStreamNames).toEqual(names);
    expect(out.HasMoreDeliveryStreams).toBe(more);
  });

  it('refuses a Limit out of its bounds with ValidationException', async () => {
    const list = client.send(new ListDeliveryStreamsCommand({ Limit: LIST_DELIVERY_STREAMS_LIMIT.max + 1 }));
    await expect(list).rejects.toMatchObject({ name: 'ValidationException', message: /at 'limit'/ });
  });

  it('describes a configured stream: ACTIVE, DirectPut, one destination', async () => {
    // Act
    const out = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'warehouse' }));
    // Assess
    const d = out.DeliveryStreamDescription;
    expect(d).toMatchObject({
      DeliveryStreamName: 'warehouse',
      DeliveryStreamARN: `arn:aws:firehose:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:deliverystream/warehouse`,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      VersionId: '1',
      HasMoreDestinations: false,
      Destinations: [{ DestinationId: 'destinationId-000000000001' }],
    });
    expect(d?.CreateTimestamp).toBeInstanceOf(Date);
    expect(Number.isNaN(d?.CreateTimestamp?.getTime())).toBe(false);
  });

  it('answers DescribeDeliveryStream for an unknown stream with ResourceNotFoundException', async () => {
    const describe = client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'nowhere' }));
    await expect(describe).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(describe).rejects.toMatchObject({
      message: `Firehose nowhere under account ${LOCAL_ACCOUNT_ID} not found.`,
      $metadata: { httpStatusCode: 400 },
    });
  });
});

/**
 * Where `value` (a JSON body as sent) strays from `schema` (the SDK's own model of the shape): a member the
 * model does not know (the SDK would drop it), a required member missing, a value of the wrong type.
 * Schemas are smithy's static schemas: [3, ns, name, traits, members, memberSchemas, required] for a
 * structure, [1, ns, name, traits, member] for a list, and numbers for simple types.
 */
function strays(value: unknown, ref: unknown, path = '$'): string[] {
  const schema = resolve(ref);
  if (typeof schema === 'number') return simpleStrays(value, schema, path);
  const s = schema as unknown[];
  if (s[0] === 1) {
    if (!Array.isArray(value)) return [`${path} is not a list`];
    return value.flatMap((v, i) => strays(v, s[4], `${path}[${i}]`));
  }
  if (s[0] !== 3) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${path} is not a structure`];
  const names = s[4] as string[];
  const members = s[5] as unknown[];
  const required = (s[6] as number | undefined) ?? 0;
  const out: string[] = [];
  for (const key of Object.keys(value))
    if (!names.includes(key)) out.push(`${path}.${key} is not in ${String(s[2])}`);
  names.forEach((name, i) => {
    const v = (value as Record<string, unknown>)[name];
    if (v === undefined) {
      if (i < required) out.push(`${path}.${name} is required by ${String(s[2])}`);
    } else out.push(...strays(v, members[i], `${path}.${name}`));
  });
  return out;
}

function resolve(ref: unknown): unknown {
  if (Array.isArray(ref) && typeof ref[0] === 'function') return (ref[0] as () => unknown)();
  return typeof ref === 'function' ? (ref as () => unknown)() : ref;
}

function simpleStrays(value: unknown, code: number, path: string): string[] {
  if (code === (64 | 0)) {
    return Array.isArray(value) && value.every((v) => typeof v === 'string')
      ? []
      : [`${path} is not a list of strings`];
  }
  const expected: Record<number, string> = { 0: 'string', 1: 'number', 2: 'boolean', 4: 'number' };
  const type = expected[code];
  return type === undefined || typeof value === type ? [] : [`${path} is a ${typeof value}, not a ${type}`];
}

describe("parity: the stand-in's answers against the SDK's own models", () => {
  it('finds a stray member, a missing required one and a wrong type (the check itself can fail)', () => {
    expect(strays({ DeliveryStreamNames: ['a'], Extra: 1 }, ListDeliveryStreamsOutput$)).toEqual([
      '$.Extra is not in ListDeliveryStreamsOutput',
      '$.HasMoreDeliveryStreams is required by ListDeliveryStreamsOutput',
    ]);
    expect(
      strays({ DeliveryStreamNames: 'a', HasMoreDeliveryStreams: 'no' }, ListDeliveryStreamsOutput$),
    ).toEqual([
      '$.DeliveryStreamNames is not a list of strings',
      '$.HasMoreDeliveryStreams is a string, not a boolean',
    ]);
  });

  it.each([
    {
      operation: 'PutRecordBatch',
      input: { DeliveryStreamName: 'lake', Records: [{ Data: Buffer.from('a\n').toString('base64') }] },
      schema: PutRecordBatchOutput$,
    },
    { operation: 'ListDeliveryStreams', input: {}, schema: ListDeliveryStreamsOutput$ },
    {
      operation: 'DescribeDeliveryStream',
      input: { DeliveryStreamName: 'lake' },
      schema: DescribeDeliveryStreamOutput$,
    },
  ])('$operation answers in the shape of its output model', async ({ operation, input, schema }) => {
    // Act
    const res = await call(server.url, operation, input);
    // Assess
    expect(res.status).toBe(200);
    expect(strays(await res.json(), schema)).toEqual([]);
  });

  it('deserializes through the real client into typed fields', async () => {
    // Act
    const put = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'lake', Records: [{ Data: Buffer.from('a\n') }] }),
    );
    const list = await client.send(new ListDeliveryStreamsCommand({}));
    const { DeliveryStreamDescription: d } = await client.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'lake' }),
    );
    // Assess
    expect(typeof put.FailedPutCount).toBe('number');
    expect(typeof put.RequestResponses?.[0]?.RecordId).toBe('string');
    expect(typeof put.Encrypted).toBe('boolean');
    expect(list.DeliveryStreamNames?.every((n) => typeof n === 'string')).toBe(true);
    expect(typeof list.HasMoreDeliveryStreams).toBe('boolean');
    for (const field of [
      'DeliveryStreamName',
      'DeliveryStreamARN',
      'DeliveryStreamStatus',
      'DeliveryStreamType',
      'VersionId',
    ] as const)
      expect(typeof d?.[field]).toBe('string');
    expect(d?.CreateTimestamp).toBeInstanceOf(Date);
    expect(typeof d?.HasMoreDestinations).toBe('boolean');
    expect(typeof d?.Destinations?.[0]?.DestinationId).toBe('string');
  });
});

describe('billed bytes', () => {
  it('rounds each record up to 5 KB, so one small line a record is billed many times its size', async () => {
    // Arrange: 10 lines of 300 bytes, one a record, then the same 10 packed into one record.
    const line = `${JSON.stringify({ pad: 'x'.repeat(288) })}\n`;
    const one = Array.from({ length: 10 }, () => ({ Data: Buffer.from(line) }));
    // Act
    await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'lake', Records: one }));
    await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'warehouse',
        Records: [{ Data: Buffer.from(line.repeat(10)) }],
      }),
    );
    // Assess
    expect(server.counters.get('lake')).toEqual({
      records: 10,
      bytes: 10 * line.length,
      billedBytes: 10 * FIREHOSE_BILLING_INCREMENT_BYTES,
    });
    expect(server.counters.get('warehouse')).toEqual({
      records: 1,
      bytes: 10 * line.length,
      billedBytes: FIREHOSE_BILLING_INCREMENT_BYTES,
    });
  });

  it('counts nothing for entries the destination refused', async () => {
    deliver = () => {
      throw new Error('COPY failed');
    };
    await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'lake', Records: [{ Data: Buffer.from('{}\n') }] }),
    );
    expect(server.counters.get('lake')).toBeUndefined();
  });

  it.each([
    [1, 5 * 1024],
    [5 * 1024, 5 * 1024],
    [5 * 1024 + 1, 10 * 1024],
  ])('bills a %i-byte record as %i bytes', (bytes, billed) => {
    expect(billedBytes(bytes)).toBe(billed);
  });
});
