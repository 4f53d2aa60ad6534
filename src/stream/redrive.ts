import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { chunkBySize } from '../adapters/batching.js';
import { describeError, StreamRangeGoneError } from '../adapters/errors.js';
import { TRANSFORM_EVENT_SOURCE } from './event-source.js';
import { kinesisStreamRecord } from './kinesis-event.js';

/**
 * Where the records of a batch the event source mapping gave up on are: the `KinesisBatchInfo` of the
 * invocation record its on-failure destination receives. The records themselves are not in it; they
 * stay in the stream until its retention ends. AWS's example (Lambda Developer Guide, "Retain discarded
 * batch records for a Kinesis Data Streams event source in Lambda",
 * https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html):
 *
 * ```json
 * { "requestContext": { "requestId": "c9b8fa9f-...", "functionArn": "arn:aws:lambda:...:function:myfunction",
 *                       "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1 },
 *   "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
 *   "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
 *   "KinesisBatchInfo": { "shardId": "shardId-000000000001",
 *                         "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
 *                         "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
 *                         "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
 *                         "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
 *                         "batchSize": 500, "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream" } }
 * ```
 * The local poller writes the same `KinesisBatchInfo` to `<home>/dead-letter.ndjson`.
 */
export interface KinesisBatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  approximateArrivalOfFirstRecord?: string;
  approximateArrivalOfLastRecord?: string;
  batchSize?: number;
  streamArn: string;
}

/** One message of a dead-letter queue: its text, and an id that names it for the queue. */
export interface DlqMessage {
  /** Unique within the queue for this run (an SQS MessageId, a line of the local file). */
  id: string;
  body: string;
}

/** The DLQ: the SQS queue on AWS, the dead-letter file locally. */
export interface DlqSource {
  /** Messages not yet received in this run; an empty page when none are left. */
  receive(): Promise<DlqMessage[]>;
  /** Removes a message for good. */
  delete(message: DlqMessage): Promise<void>;
}

/** A shard's records from `startSequenceNumber` through `endSequenceNumber`, both included. */
export interface ShardRange {
  streamName: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
}

/** A record as read back from the stream. */
export interface StreamRecordRead {
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  arrival?: Date;
}

/** Kinesis, as the redrive reads it. */
export interface KinesisRangeReader {
  /**
   * The records of the range still in the stream, in order: from the first at or after its start through
   * its end.
   * @throws StreamRangeGoneError when the shard, the sequence number or the iterator is gone
   */
  readRange(range: ShardRange): Promise<StreamRecordRead[]>;
  /** The stream's retention period (DescribeStreamSummary's RetentionPeriodHours). */
  retentionHours(streamName: string): Promise<number>;
}

/** The `transform` function: in process locally, invoked on AWS. Throws for a function error. */
export type Transformer = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

export const REDRIVE_STATUS = {
  /** Every record of the message is stored; the message is deleted. */
  redriven: 'redriven',
  /** Some of its records are past the stream's retention: reported, and the message kept. */
  out_of_retention: 'out_of_retention',
  /** Not every record is stored (or the message cannot be read): kept for the next run. */
  failed: 'failed',
} as const;
export type RedriveStatus = (typeof REDRIVE_STATUS)[keyof typeof REDRIVE_STATUS];

/** What happened to one DLQ message. */
export interface MessageResult {
  id: string;
  status: RedriveStatus;
  /** Records stored again; 0 unless redriven. */
  records: number;
  /** Why it is not redriven; null when it is. */
  reason: string | null;
  shard_id: string | null;
  start_sequence_number: string | null;
  end_sequence_number: string | null;
}

/** What `ecomflow redrive --json` prints. */
export interface RedriveSummary {
  messages: number;
  redriven: number;
  /** Records stored again, over every redriven message. */
  records: number;
  out_of_retention: number;
  failed: number;
  results: MessageResult[];
}

export interface RedriveOptions {
  dlq: DlqSource;
  reader: KinesisRangeReader;
  transform: Transformer;
  /** The stream the transformer consumes: a message naming another stream fails. */
  streamName: string;
  /** The role named in the events' `invokeIdentityArn`. */
  invokeIdentityArn: string;
  /** Records per transformer event; default: the event source mapping's batch size. */
  batchSize?: number;
  /** Bytes of records per event (Lambda caps a synchronous invocation's payload). */
  maxEventBytes?: number;
  now?: () => Date;
  /** Called with each message's result as soon as it is known. */
  onResult?: (result: MessageResult) => void;
}

/**
 * Redrives a DLQ: for each message, reads its records back from the stream, runs them through the
 * transformer in batches of at most `batchSize`, and deletes the message only when every record of it is
 * stored (no batchItemFailures and no function error). The transformer is idempotent per line_id, so a
 * record stored before (or by an earlier, interrupted redrive) is stored again without doubling anything.
 *
 * A message whose records have left the stream is reported as out of retention and kept, never dropped:
 * when its first record arrived longer ago than the stream's retention, when Kinesis no longer has the
 * shard or refuses the sequence number, or when the first record read back is later than its start (the
 * start was trimmed). Its remaining records are not redriven either: the range is no longer whole, and an
 * operator decides what to do with it.
 *
 * Messages are received until the DLQ has no new one; a message received twice in a run is handled once.
 * @example const summary = await redrive({ dlq, reader, transform, streamName: 'ecomflow-dev-lines', invokeIdentityArn })
 */
export async function redrive(options: RedriveOptions): Promise<RedriveSummary> {
  const retention = new Map<string, Promise<number>>();
  const retentionHours = (stream: string) => {
    let hours = retention.get(stream);
    if (!hours) {
      // Asked once a stream; a failed answer is not kept, so the next message asks again.
      hours = options.reader.retentionHours(stream).catch((error: unknown) => {
        retention.delete(stream);
        throw error;
      });
      retention.set(stream, hours);
    }
    return hours;
  };
  const seen = new Set<string>();
  const results: MessageResult[] = [];
  for (;;) {
    const fresh = (await options.dlq.receive()).filter((m) => !seen.has(m.id));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.add(message.id);
      const result = await redriveMessage(message, options, retentionHours);
      results.push(result);
      options.onResult?.(result);
    }
  }
  const count = (status: RedriveStatus) => results.filter((r) => r.status === status).length;
  return {
    messages: results.length,
    redriven: count(REDRIVE_STATUS.redriven),
    records: results.reduce((sum, r) => sum + r.records, 0),
    out_of_retention: count(REDRIVE_STATUS.out_of_retention),
    failed: count(REDRIVE_STATUS.failed),
    results,
  };
}

async function redriveMessage(
  message: DlqMessage,
  options: RedriveOptions,
  retentionHours: (stream: string) => Promise<number>,
): Promise<MessageResult> {
  const parsed = parseInvocationRecord(message.body);
  const base = {
    id: message.id,
    shard_id: typeof parsed === 'string' ? null : parsed.shardId,
    start_sequence_number: typeof parsed === 'string' ? null : parsed.startSequenceNumber,
    end_sequence_number: typeof parsed === 'string' ? null : parsed.endSequenceNumber,
  };
  const failed = (reason: string): MessageResult => ({
    ...base,
    status: REDRIVE_STATUS.failed,
    records: 0,
    reason,
  });
  const outOfRetention = (reason: string): MessageResult => ({
    ...base,
    status: REDRIVE_STATUS.out_of_retention,
    records: 0,
    reason,
  });
  if (typeof parsed === 'string') return failed(parsed);
  const stream = streamOfArn(parsed.streamArn);
  if (!stream) return failed(`streamArn ${JSON.stringify(parsed.streamArn)} is not a Kinesis stream ARN`);
  if (stream.name !== options.streamName) {
    return failed(`it names stream ${stream.name}, not ${options.streamName}, the stream redriven here`);
  }

  let records: StreamRecordRead[];
  try {
    const hours = await retentionHours(stream.name);
    const firstArrival = Date.parse(parsed.approximateArrivalOfFirstRecord ?? '');
    const now = (options.now ?? (() => new Date()))().getTime();
    if (Number.isFinite(firstArrival) && now - firstArrival > hours * 3_600_000) {
      return outOfRetention(
        `its first record arrived at ${parsed.approximateArrivalOfFirstRecord}, longer ago than the stream's retention of ${hours} hours`,
      );
    }
    records = await options.reader.readRange({
      streamName: stream.name,
      shardId: parsed.shardId,
      startSequenceNumber: parsed.startSequenceNumber,
      endSequenceNumber: parsed.endSequenceNumber,
    });
  } catch (error) {
    if (error instanceof StreamRangeGoneError) return outOfRetention(error.message);
    return failed(`cannot read it back from ${stream.name}: ${describe(error)}`);
  }

  const first = records[0];
  const last = records.at(-1);
  if (!first || !last) {
    return outOfRetention(`${parsed.shardId} holds no record from ${parsed.startSequenceNumber} on any more`);
  }
  if (BigInt(first.sequenceNumber) > BigInt(parsed.startSequenceNumber)) {
    return outOfRetention(
      `the first record left in ${parsed.shardId} is ${first.sequenceNumber}, after startSequenceNumber ${parsed.startSequenceNumber}: the start of the range was trimmed`,
    );
  }
  if (BigInt(last.sequenceNumber) < BigInt(parsed.endSequenceNumber)) {
    return failed(
      `${parsed.shardId} read back ends at ${last.sequenceNumber}, before endSequenceNumber ${parsed.endSequenceNumber}`,
    );
  }

  const eventRecords = records.map((r) =>
    kinesisStreamRecord({
      data: r.data,
      sequenceNumber: r.sequenceNumber,
      partitionKey: r.partitionKey,
      shardId: parsed.shardId,
      streamArn: parsed.streamArn,
      region: stream.region,
      invokeIdentityArn: options.invokeIdentityArn,
      ...(r.arrival ? { arrival: r.arrival } : {}),
    }),
  );
  const events = chunkBySize(
    eventRecords.map((_, i) => i),
    (i) => JSON.stringify(eventRecords[i]).length + 1,
    {
      maxCount: options.batchSize ?? TRANSFORM_EVENT_SOURCE.batchSize,
      maxBytes: options.maxEventBytes ?? Number.POSITIVE_INFINITY,
    },
  ).map((chunk): KinesisStreamEvent => ({ Records: chunk.map((i) => eventRecords[i]!) }));
  for (const event of events) {
    let response: KinesisStreamBatchResponse;
    try {
      response = await options.transform(event);
    } catch (error) {
      return failed(`the transformer failed: ${describe(error)}`);
    }
    const [firstFailure] = response.batchItemFailures ?? [];
    if (firstFailure) {
      return failed(
        `the transformer did not store the records from ${firstFailure.itemIdentifier} on (batchItemFailures)`,
      );
    }
  }
  try {
    await options.dlq.delete(message);
  } catch (error) {
    return failed(`its records are stored, but deleting the message failed: ${describe(error)}`);
  }
  return { ...base, status: REDRIVE_STATUS.redriven, records: records.length, reason: null };
}

/**
 * The `KinesisBatchInfo` of an on-failure invocation record, or why the text is not one.
 * @example typeof parseInvocationRecord('{}') === 'string'
 */
export function parseInvocationRecord(body: string): KinesisBatchInfo | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return `not JSON: ${JSON.stringify(body.slice(0, 80))}`;
  }
  const info = (value as { KinesisBatchInfo?: unknown } | null)?.KinesisBatchInfo as
    | Record<string, unknown>
    | undefined;
  if (typeof info !== 'object' || info === null)
    return 'not a Kinesis invocation record: no KinesisBatchInfo';
  const missing = ['shardId', 'startSequenceNumber', 'endSequenceNumber', 'streamArn'].filter(
    (key) => typeof info[key] !== 'string' || info[key] === '',
  );
  if (missing.length > 0) return `KinesisBatchInfo has no ${missing.join(', ')}`;
  const bad = ['startSequenceNumber', 'endSequenceNumber'].filter((key) => !/^\d+$/.test(String(info[key])));
  if (bad.length > 0) {
    return `KinesisBatchInfo.${bad[0]} ${JSON.stringify(info[bad[0]!])} is not a sequence number`;
  }
  return info as unknown as KinesisBatchInfo;
}

/** `{ name, region }` of `arn:aws:kinesis:<region>:<account>:stream/<name>`. */
function streamOfArn(arn: string): { name: string; region: string } | null {
  const match = /^arn:[\w-]+:kinesis:([\w-]+):\d*:stream\/([\w.-]+)$/.exec(arn);
  return match ? { region: match[1]!, name: match[2]! } : null;
}

function describe(error: unknown): string {
  const { errorCode, errorMessage } = describeError(error);
  return `${errorCode}: ${errorMessage}`;
}
