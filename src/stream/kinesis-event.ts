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
