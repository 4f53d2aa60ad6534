import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { batchWrite, getInvoiceHeads, putInvoiceHead, queryInvoiceItems } from '../adapters/dynamodb.js';
import { DynamoWriteError, FirehosePutError, QuarantineWriteError } from '../adapters/errors.js';
import { packNdjson, putRecordBatch } from '../adapters/firehose.js';
import { writeQuarantine } from '../adapters/s3.js';
import { isRejection } from '../core/clean.js';
import {
  headKey,
  type InvoiceHeadItem,
  ITEM_KINDS,
  type ItemWrite,
  itemsForLine,
} from '../core/dynamo-items.js';
import {
  QUARANTINE_REASONS,
  type QuarantineOrigin,
  type QuarantineRecord,
  quarantineKey,
  quarantineRecord,
} from '../core/quarantine.js';
import { cleanSourceRow } from '../core/row-objects.js';
import type { CleanLine, StoredLine } from '../core/schema.js';
import { mapLimit } from '../task-pool.js';
import { type AppliedChange, planBatch, type Removal, removal } from './changes.js';
import type { TransformDeps } from './deps.js';
import { decodeRecord, type InvoiceChange } from './envelope.js';
import { EnvelopeError } from './errors.js';

/** One Kinesis record, decoded and cleaned: its clean lines and its quarantined ones. */
interface RecordWork {
  /** The lines it stores, each with the write that stores it (after planning; before, as cleaned). */
  lines: StoredLine[];
  /** Where each clean line came from: its line in the request, and the request. */
  sources: { line: number; request_id: string }[];
  quarantine: QuarantineRecord[];
  origin: (requestId: string | null) => QuarantineOrigin;
  /** The write's version (0 before versions) and request. */
  version: number;
  requestId: string | null;
  /** A change record's invoice and kind, as decoded. */
  requested: { kind: InvoiceChange; invoice_no: string } | null;
  /** The change this batch applies for the record, and what it removes (read before the writes). */
  change: (AppliedChange & { removal: Removal }) | null;
}

/** A clean line's place: the record it came in, and its index among that record's lines. */
interface LineRef {
  record: number;
  line: number;
}

/**
 * Processes one batch of stream records: unpack each record (one line in version 1, many in version 2),
 * clean each row, put its DynamoDB items, quarantine rejected rows, and send the clean lines to both
 * Firehose streams, packed into newline-delimited records.
 *
 * Failure reporting follows Kinesis checkpoint semantics: Lambda checkpoints before the lowest sequence
 * number reported and retries every record from there. So the response names only the earliest record
 * that was not completely done; later records are retried with it, which is safe because every DynamoDB
 * write is an idempotent put keyed by line_id and quarantine objects are keyed by sequence number (one per
 * record, whatever it packs).
 *
 * A line DynamoDB refuses as invalid is not a failure of its record: it is quarantined as `store_rejected`
 * and kept out of Firehose, and the rest of the batch is stored. Retrying could never store it, and failing
 * its record would send the valid lines around it to the DLQ.
 *
 * Firehose is not idempotent, so lines go to it only for records before the earliest DynamoDB or
 * quarantine failure (those after it will be retried anyway). A packed Firehose record that fails fails the
 * earliest Kinesis record among its lines. A retry can resend lines that were delivered; the lake and
 * warehouse deduplicate by line_id.
 *
 * Nothing is caught and dropped: a failure either moves the checkpoint back or propagates (a function
 * error, which Lambda retries with bisection).
 */
export async function processBatch(
  records: readonly KinesisStreamRecord[],
  deps: TransformDeps,
): Promise<KinesisStreamBatchResponse> {
  const work = records.map((record) => decodeAndClean(record, deps));
  let earliest = records.length;
  const fail = (recordIndex: number, error: Error) => {
    if (recordIndex < earliest) earliest = recordIndex;
    deps.log.warn('record not finished; reported in batchItemFailures', {
      sequenceNumber: records[recordIndex]?.kinesis.sequenceNumber,
      error: error.name,
      detail: error.message,
    });
  };
  const { tables, quarantine } = deps.config;

  // Changes: which writes the invoices' newest changes supersede, and what each applied change removes.
  // A read that fails propagates: the batch is retried whole, nothing was written.
  await planChanges(work, deps);

  // DynamoDB items, owned by the line they come from.
  const writes: ItemWrite[] = [];
  const writeOwner: LineRef[] = [];
  work.forEach((w, record) => {
    w.lines.forEach((line, index) => {
      for (const write of itemsForLine(withoutChange(line))) {
        writes.push(write);
        writeOwner.push({ record, line: index });
      }
    });
  });
  const refused = new Map<number, Set<number>>();
  await batchWrite(deps.dynamo, tables, writes, deps.retry).catch((error: unknown) => {
    if (!(error instanceof DynamoWriteError)) throw error;
    for (const index of error.unprocessed) fail(writeOwner[index]!.record, error);
    for (const { index, message } of error.invalid) {
      const { record, line } = writeOwner[index]!;
      const lines = refused.get(record) ?? new Set<number>();
      if (lines.has(line)) continue;
      lines.add(line);
      refused.set(record, lines);
      const clean = work[record]!.lines[line]!;
      deps.log.warn('line refused by DynamoDB as invalid; quarantined', { line_id: clean.line_id, message });
      work[record]!.quarantine.push(storeRejection(record, line, message, work, deps));
    }
  });

  await mapLimit(
    work.flatMap((w, i) => (w.quarantine.length > 0 ? [i] : [])),
    8,
    async (i) => {
      const record = records[i]!;
      // One object per record, named by its shard and sequence number, under the day it reached the
      // stream: a retry, even on a later day, overwrites it and never duplicates it.
      const arrival = new Date(record.kinesis.approximateArrivalTimestamp * 1000);
      const day = (Number.isNaN(arrival.getTime()) ? new Date(0) : arrival).toISOString().slice(0, 10);
      const key = quarantineKey('stream', day, `${shardOf(record)}-${record.kinesis.sequenceNumber}`);
      await writeQuarantine(deps.s3, quarantine, key, work[i]!.quarantine).catch((error: unknown) => {
        if (!(error instanceof QuarantineWriteError)) throw error;
        fail(i, error);
      });
    },
  );

  // Firehose: only records before the earliest failure; the rest will come again. A change's tombstones
  // go with its lines, before DynamoDB forgets the removed lines: a retry reads them again.
  const sent: { line: StoredLine; record: number }[] = [];
  work.forEach((w, record) => {
    if (record >= earliest) return;
    const skip = refused.get(record);
    w.lines.forEach((line, index) => {
      if (!skip?.has(index)) sent.push({ line, record });
    });
    for (const tombstone of w.change?.removal.tombstones ?? []) sent.push({ line: tombstone, record });
  });
  if (sent.length > 0) {
    const packed = packNdjson(
      sent.map((s) => s.line),
      deps.config.firehoseRecordMaxBytes,
    );
    const data = packed.map((p) => p.data);
    // Lines are packed in record order, so a packed record's first line has its earliest owner.
    const owner = packed.map((p) => sent[p.members[0]!]!.record);
    const streams = [deps.config.deliveryStreams.lake, deps.config.deliveryStreams.warehouse];
    await Promise.all(
      streams.map((stream) =>
        putRecordBatch(deps.firehose, stream, data, deps.retry).catch((error: unknown) => {
          if (!(error instanceof FirehosePutError)) throw error;
          for (const f of error.failures) fail(owner[f.index]!, error);
        }),
      ),
    );
  }

  await finishChanges(work, () => earliest, fail, deps);

  const failed = records[earliest];
  return { batchItemFailures: failed ? [{ itemIdentifier: failed.kinesis.sequenceNumber }] : [] };
}

/** A stored line as the DynamoDB items take it: the items are the present, so they carry no history. */
function withoutChange(line: StoredLine): CleanLine {
  const { change_version: _version, change_kind: _kind, ...clean } = line;
  return clean;
}

/**
 * Plans the batch's changes (src/stream/changes.ts) against the invoices' heads, read once for the batch:
 * drops superseded lines from each record's work, and for each applied change reads the invoice's items,
 * to know what it removes. Superseded writes are logged with their counts, never silently dropped.
 */
async function planChanges(work: RecordWork[], deps: TransformDeps): Promise<void> {
  const invoices = new Set<string>();
  for (const w of work) {
    if (w.requested) invoices.add(w.requested.invoice_no);
    for (const line of w.lines) invoices.add(line.invoice_no);
  }
  if (invoices.size === 0) return;
  const table = deps.config.tables.invoices;
  const heads = await getInvoiceHeads(deps.dynamo, table, invoices, deps.retry);
  const plans = planBatch(
    work.map((w) => ({ version: w.version, request_id: w.requestId, change: w.requested, lines: w.lines })),
    heads,
  );
  await mapLimit(work, 8, async (w, i) => {
    const plan = plans[i]!;
    if (plan.superseded > 0 || plan.supersededChange) {
      deps.log.info('writes superseded by a newer change of their invoice; not stored', {
        request_id: w.requestId,
        version: w.version,
        lines: plan.superseded,
        change: plan.supersededChange ? w.requested?.kind : undefined,
      });
    }
    w.sources = plan.keep.map((k) => w.sources[k.index]!);
    w.lines = plan.keep.map((k) => k.line);
    if (plan.change) {
      const current = await queryInvoiceItems(deps.dynamo, table, plan.change.invoice_no);
      w.change = { ...plan.change, removal: removal(plan.change, current, w.lines) };
    }
  });
}

/**
 * After Firehose has the tombstones: deletes what each applied change removed, then writes its head with
 * the version condition. Only for records before the earliest failure (the rest are retried whole). A
 * failure fails the change's record; a head that a newer change beat is logged (the newer change's own
 * writes decide what the stores show).
 */
async function finishChanges(
  work: readonly RecordWork[],
  earliest: () => number,
  fail: (record: number, error: Error) => void,
  deps: TransformDeps,
): Promise<void> {
  const { tables } = deps.config;
  await mapLimit(
    work.flatMap((w, i) => (w.change ? [i] : [])),
    8,
    async (i) => {
      if (i >= earliest()) return;
      const change = work[i]!.change!;
      try {
        if (change.removal.deletes.length > 0) {
          await batchWrite(deps.dynamo, tables, change.removal.deletes, deps.retry);
        }
      } catch (error) {
        if (!(error instanceof DynamoWriteError)) throw error;
        fail(i, error);
        return;
      }
      const head: InvoiceHeadItem = {
        ...headKey(change.invoice_no),
        kind: ITEM_KINDS.head,
        invoice_no: change.invoice_no,
        version: change.version,
        change: change.kind,
        request_id: change.request_id,
        lines: change.removal.remaining,
        applied_at: now(deps).toISOString(),
      };
      if (!(await putInvoiceHead(deps.dynamo, tables.invoices, head))) {
        deps.log.warn('a newer change of the invoice was applied first; this one is superseded', {
          invoice_no: change.invoice_no,
          version: change.version,
        });
      }
    },
  );
}

function decodeAndClean(record: KinesisStreamRecord, deps: TransformDeps): RecordWork {
  const data = Buffer.from(record.kinesis.data, 'base64');
  const at = now(deps);
  const origin = (requestId: string | null) =>
    ({
      source: 'stream',
      shard_id: shardOf(record),
      sequence_number: record.kinesis.sequenceNumber,
      request_id: requestId,
      stage: deps.config.stage,
    }) as const;
  const work: RecordWork = {
    lines: [],
    sources: [],
    quarantine: [],
    origin,
    version: 0,
    requestId: null,
    requested: null,
    change: null,
  };
  const malformed = (line: number | null, raw: string, message: string, requestId: string | null) =>
    quarantineRecord(
      { line, raw, reason: QUARANTINE_REASONS.malformed_record, field: null, message },
      origin(requestId),
      at,
    );
  let decoded: ReturnType<typeof decodeRecord>;
  try {
    decoded = decodeRecord(data);
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    work.quarantine.push(malformed(null, data.toString('utf8'), error.message, null));
    return work;
  }
  const requestId = decoded.requestId;
  work.version = decoded.version;
  work.requestId = requestId;
  work.requested = decoded.change;
  for (const m of decoded.malformed) work.quarantine.push(malformed(m.line, m.raw, m.message, requestId));
  const { first, last } = deps.config.lakeYears;
  for (const entry of decoded.lines) {
    const result = cleanSourceRow(entry.row, entry.line);
    if (isRejection(result)) work.quarantine.push(quarantineRecord(result, origin(entry.request_id), at));
    else if (!inYears(result.invoice_date, first, last)) {
      // Stored, it would be in DynamoDB and the warehouse but never in Athena: the stores would disagree.
      work.quarantine.push(
        quarantineRecord(
          {
            line: entry.line,
            raw: JSON.stringify(entry.row),
            reason: QUARANTINE_REASONS.outside_lake_years,
            field: 'InvoiceDate',
            message: `line ${entry.line}: InvoiceDate ${result.invoice_date} is outside the lake's partition projection years ${first} to ${last} (lakeProjectionYears)`,
          },
          origin(entry.request_id),
          at,
        ),
      );
    } else if (decoded.change && result.invoice_no !== decoded.change.invoice_no) {
      // The API refuses such a change; a record that has one anyway keeps its other lines.
      work.quarantine.push(
        malformed(
          entry.line,
          JSON.stringify(entry.row),
          `line ${entry.line}: InvoiceNo ${JSON.stringify(result.invoice_no)} is not the invoice the change replaces, ${JSON.stringify(decoded.change.invoice_no)}`,
          entry.request_id,
        ),
      );
    } else {
      work.lines.push(result);
      work.sources.push({ line: entry.line, request_id: entry.request_id });
    }
  }
  return work;
}

function storeRejection(
  record: number,
  index: number,
  message: string,
  work: readonly RecordWork[],
  deps: TransformDeps,
): QuarantineRecord {
  const w = work[record]!;
  const line = w.lines[index]!;
  const source = w.sources[index]!;
  return quarantineRecord(
    {
      line: source.line,
      raw: JSON.stringify(line),
      reason: QUARANTINE_REASONS.store_rejected,
      field: null,
      message: `DynamoDB refused line ${line.line_id}: ${message}`,
    },
    w.origin(source.request_id),
    now(deps),
  );
}

/** Whether an ISO date's year is within [first, last]. */
function inYears(isoDate: string, first: number, last: number): boolean {
  const year = Number(isoDate.slice(0, 4));
  return year >= first && year <= last;
}

function now(deps: TransformDeps): Date {
  return (deps.now ?? (() => new Date()))();
}

/** `shardId-000000000000` from an eventID `shardId-000000000000:4959...`. */
function shardOf(record: KinesisStreamRecord): string {
  const id = record.eventID ?? '';
  const colon = id.indexOf(':');
  return colon > 0 ? id.slice(0, colon) : 'unknown-shard';
}
