import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { batchWrite } from '../adapters/dynamodb.js';
import { DynamoWriteError, FirehosePutError, QuarantineWriteError } from '../adapters/errors.js';
import { ndjsonRecord, putRecordBatch } from '../adapters/firehose.js';
import { writeQuarantine } from '../adapters/s3.js';
import { isRejection } from '../core/clean.js';
import { type ItemWrite, itemsForLine } from '../core/dynamo-items.js';
import { QUARANTINE_REASONS, type QuarantineRecord, quarantineRecord } from '../core/quarantine.js';
import { cleanSourceRow } from '../core/row-objects.js';
import type { CleanLine } from '../core/schema.js';
import { mapLimit } from '../task-pool.js';
import type { TransformDeps } from './deps.js';
import { decodeEnvelope } from './envelope.js';
import { EnvelopeError } from './errors.js';

/** One Kinesis record, decoded and cleaned. */
type Decoded = { kind: 'line'; line: CleanLine } | { kind: 'rejected'; quarantine: QuarantineRecord };

/**
 * Processes one batch of stream records: clean each row, put its DynamoDB items, quarantine rejected rows,
 * and send the clean lines to both Firehose streams.
 *
 * Failure reporting follows Kinesis checkpoint semantics: Lambda checkpoints before the lowest sequence
 * number reported and retries every record from there. So the response names only the earliest record
 * that was not completely done; later records are retried with it, which is safe because every DynamoDB
 * write is an idempotent put keyed by line_id and quarantine objects are keyed by sequence number.
 *
 * Firehose is not idempotent, so lines go to it only for records before the earliest DynamoDB or
 * quarantine failure (those after it will be retried anyway). A Firehose failure can still make a retry
 * resend lines that were delivered; the lake and warehouse deduplicate by line_id.
 *
 * Nothing is caught and dropped: a failure either moves the checkpoint back or propagates (a function
 * error, which Lambda retries with bisection).
 */
export async function processBatch(
  records: readonly KinesisStreamRecord[],
  deps: TransformDeps,
): Promise<KinesisStreamBatchResponse> {
  const decoded = records.map((record) => decodeRecord(record, deps));
  let earliest = records.length;
  const fail = (recordIndex: number, error: Error) => {
    if (recordIndex < earliest) earliest = recordIndex;
    deps.log.warn('record not finished; reported in batchItemFailures', {
      sequenceNumber: records[recordIndex]?.kinesis.sequenceNumber,
      error: error.name,
      detail: error.message,
    });
  };

  // DynamoDB items and quarantine objects, owned by the record they come from.
  const writes: ItemWrite[] = [];
  const writeOwner: number[] = [];
  decoded.forEach((d, i) => {
    if (d.kind !== 'line') return;
    for (const write of itemsForLine(d.line)) {
      writes.push(write);
      writeOwner.push(i);
    }
  });
  const { tables, quarantine } = deps.config;
  await Promise.all([
    batchWrite(deps.dynamo, tables, writes, deps.retry).catch((error: unknown) => {
      if (!(error instanceof DynamoWriteError)) throw error;
      for (const index of error.unprocessed) fail(writeOwner[index]!, error);
    }),
    mapLimit(
      decoded.flatMap((d, i) => (d.kind === 'rejected' ? [i] : [])),
      8,
      async (i) => {
        const d = decoded[i] as Extract<Decoded, { kind: 'rejected' }>;
        const record = records[i]!;
        // One object per record, named by its sequence number: a retry overwrites, never duplicates.
        const key = `stream/${shardOf(record)}/${record.kinesis.sequenceNumber}.ndjson`;
        await writeQuarantine(deps.s3, quarantine, key, [d.quarantine]).catch((error: unknown) => {
          if (!(error instanceof QuarantineWriteError)) throw error;
          fail(i, error);
        });
      },
    ),
  ]);

  // Firehose: only records before the earliest failure; the rest will come again.
  const sent: { owner: number; data: Uint8Array }[] = [];
  decoded.forEach((d, i) => {
    if (d.kind === 'line' && i < earliest) sent.push({ owner: i, data: ndjsonRecord(d.line) });
  });
  if (sent.length > 0) {
    const data = sent.map((s) => s.data);
    const streams = [deps.config.deliveryStreams.lake, deps.config.deliveryStreams.warehouse];
    await Promise.all(
      streams.map((stream) =>
        putRecordBatch(deps.firehose, stream, data, deps.retry).catch((error: unknown) => {
          if (!(error instanceof FirehosePutError)) throw error;
          for (const f of error.failures) fail(sent[f.index]!.owner, error);
        }),
      ),
    );
  }

  const failed = records[earliest];
  return { batchItemFailures: failed ? [{ itemIdentifier: failed.kinesis.sequenceNumber }] : [] };
}

function decodeRecord(record: KinesisStreamRecord, deps: TransformDeps): Decoded {
  const data = Buffer.from(record.kinesis.data, 'base64');
  const at = (deps.now ?? (() => new Date()))();
  const origin = (requestId: string | null) =>
    ({
      source: 'stream',
      shard_id: shardOf(record),
      sequence_number: record.kinesis.sequenceNumber,
      request_id: requestId,
      stage: deps.config.stage,
    }) as const;
  let envelope: ReturnType<typeof decodeEnvelope>;
  try {
    envelope = decodeEnvelope(data);
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    return {
      kind: 'rejected',
      quarantine: quarantineRecord(
        {
          line: null,
          raw: data.toString('utf8'),
          reason: QUARANTINE_REASONS.malformed_record,
          field: null,
          message: error.message,
        },
        origin(null),
        at,
      ),
    };
  }
  const result = cleanSourceRow(envelope.row, envelope.line);
  if (isRejection(result)) {
    return { kind: 'rejected', quarantine: quarantineRecord(result, origin(envelope.request_id), at) };
  }
  return { kind: 'line', line: result };
}

/** `shardId-000000000000` from an eventID `shardId-000000000000:4959...`. */
function shardOf(record: KinesisStreamRecord): string {
  const id = record.eventID ?? '';
  const colon = id.indexOf(':');
  return colon > 0 ? id.slice(0, colon) : 'unknown-shard';
}
