import type { KinesisStreamRecord } from 'aws-lambda';

export interface KinesisRecordFields {
  data: Uint8Array | string;
  sequenceNumber: string;
  partitionKey: string;
  shardId: string;
  streamArn: string;
  region: string;
  /** The role Lambda invokes the function with; only its presence matters to the handler. */
  invokeIdentityArn: string;
  /** When the record reached the stream; now when unknown. */
  arrival?: Date;
}

/**
 * One Kinesis record as the event source mapping hands it to Lambda (data base64-encoded), for the local
 * poller, the redrive (which hands records read back from the stream to the transformer) and the tests.
 */
export function kinesisStreamRecord(fields: KinesisRecordFields): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: fields.partitionKey,
      sequenceNumber: fields.sequenceNumber,
      data: Buffer.from(fields.data).toString('base64'),
      approximateArrivalTimestamp: (fields.arrival?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${fields.shardId}:${fields.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: fields.invokeIdentityArn,
    awsRegion: fields.region,
    eventSourceARN: fields.streamArn,
  };
}

/**
 * Records cut into the batches of one invocation each, in order: at most `maxRecords` records and
 * `maxBytes` of `size` (a record's share of the event's JSON), one record at least. The event source
 * mapping cuts a batch at the synchronous payload limit as well as at its BatchSize.
 */
export function inEventBatches<T>(
  records: readonly T[],
  size: (record: T) => number,
  maxRecords: number,
  maxBytes: number,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const bytesOf = size(record);
    if (current.length > 0 && (current.length >= maxRecords || bytes + bytesOf > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += bytesOf;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
