import {
  FirehoseClient,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-firehose';
import {
  billedBytes,
  type Deliver,
  FIREHOSE_BILLING_INCREMENT_BYTES,
  type FirehoseServer,
  startFirehoseServer,
} from '../../src/local/firehose-server.js';

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
