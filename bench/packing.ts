/**
 * Packing on the data path, on the real data: what the API puts on Kinesis and what the transformer sends
 * to Firehose, before (one line a record) and after (packed), through the same functions the handlers call.
 * Firehose's billed bytes are counted by the local Firehose endpoint, which rounds each record up to 5 KB as
 * Firehose bills it; the records reach it through @aws-sdk/client-firehose, as from the transformer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createFirehoseClient, ndjsonRecord, packNdjson, putRecordBatch } from '../src/adapters/firehose.js';
import { KINESIS_LIMITS } from '../src/adapters/kinesis.js';
import { FIREHOSE_RECORD_KB } from '../src/config/transform.js';
import { parseBody } from '../src/core/body.js';
import { itemsForLine, writeKey } from '../src/core/dynamo-items.js';
import type { CleanLine } from '../src/core/schema.js';
import { type Measurements, writeMeasurements } from '../src/cost/measurements.js';
import { ParquetLineWriter } from '../src/lake/parquet.js';
import { startFirehoseServer } from '../src/local/firehose-server.js';
import { REPLAY_DEFAULTS } from '../src/replay/session.js';
import { encodeEnvelope, packEnvelopes } from '../src/stream/envelope.js';
import { TRANSFORM_EVENT_SOURCE } from '../src/stream/event-source.js';
import { ROOT } from './lib.js';

/** A Kinesis shard's write limits. */
const SHARD = { recordsPerS: 1_000, bytesPerS: 1024 * 1024 } as const;

export interface PackingFigures extends Pick<Measurements, 'lines' | 'kinesis' | 'firehose'> {
  parquetBytesPerLine: number;
  dynamoItemsPerLine: number;
  dynamoIndexWritesPerLine: number;
}

export async function measurePacking(realData: string): Promise<PackingFigures> {
  const parsed = parseBody(gunzipSync(readFileSync(realData)), 'csv', 'auto');
  const valid = parsed.valid;
  const requestRows = REPLAY_DEFAULTS.batchRows;
  const kinesis = { unpacked: { records: 0, bytes: 0 }, packed: { records: 0, bytes: 0 } };
  // Kinesis records in stream order, each with its clean lines, for the transformer's batches below.
  const streamed: CleanLine[][] = [];
  for (let start = 0, request = 0; start < valid.length; start += requestRows, request++) {
    const rows = valid.slice(start, start + requestRows);
    const requestId = `bench-${String(request).padStart(6, '0')}-0000-0000-000000000000`;
    for (const v of rows) {
      const data = encodeEnvelope({ v: 1, request_id: requestId, line: v.line, row: v.row });
      kinesis.unpacked.records++;
      kinesis.unpacked.bytes += data.byteLength + Buffer.byteLength(v.clean.invoice_no);
    }
    const packed = packEnvelopes(
      requestId,
      rows.map((v) => ({ partitionKey: v.clean.invoice_no, line: v.line, row: v.row })),
    );
    for (const p of packed) {
      kinesis.packed.records++;
      kinesis.packed.bytes += p.data.byteLength + Buffer.byteLength(p.partitionKey);
      streamed.push(p.rows.map((i) => rows[i]!.clean));
    }
  }

  const server = await startFirehoseServer({ deliver: () => undefined });
  const client = createFirehoseClient({ region: undefined, endpoints: { firehose: server.url } });
  try {
    // The transformer's batches: up to batchSize Kinesis records an invocation.
    for (let start = 0; start < streamed.length; start += TRANSFORM_EVENT_SOURCE.batchSize) {
      const lines = streamed.slice(start, start + TRANSFORM_EVENT_SOURCE.batchSize).flat();
      await putRecordBatch(client, 'unpacked', lines.map(ndjsonRecord));
      await putRecordBatch(
        client,
        'packed',
        packNdjson(lines, FIREHOSE_RECORD_KB.default * 1024).map((p) => p.data),
      );
    }
  } finally {
    client.destroy();
    await server.close();
  }
  const counted = (stream: string) => server.counters.get(stream) ?? { records: 0, bytes: 0, billedBytes: 0 };
  // The lake's bytes a line, and DynamoDB's distinct items a line (shared membership items count once).
  const writer = ParquetLineWriter.inMemory();
  const keys = new Set<string>();
  let indexed = 0;
  for (const v of valid) {
    writer.append(v.clean);
    for (const w of itemsForLine(v.clean)) {
      const key = writeKey(w);
      if (!keys.has(key) && 'gsi1pk' in w.item) indexed++;
      keys.add(key);
    }
  }
  const parquetBytes = writer.close().byteLength;
  return {
    lines: valid.length,
    parquetBytesPerLine: parquetBytes / valid.length,
    dynamoItemsPerLine: keys.size / valid.length,
    dynamoIndexWritesPerLine: indexed / valid.length,
    kinesis,
    firehose: { unpacked: { ...counted('unpacked') }, packed: { ...counted('packed') } },
  };
}

/** The lines/s one shard takes under both of its limits, for records of the measured size. */
export function shardLinesPerSecond(records: number, bytes: number, lines: number): number {
  const linesPerRecord = lines / records;
  const bytesPerLine = bytes / lines;
  return Math.min(SHARD.recordsPerS * linesPerRecord, SHARD.bytesPerS / bytesPerLine);
}

/** Where the cost model (`ecomflow cost`) reads what this bench measured. */
export const MEASUREMENTS_FILE = join(ROOT, 'config', 'measurements.json');

export async function benchPacking(realData: string): Promise<string> {
  const f = await measurePacking(realData);
  writeMeasurements(MEASUREMENTS_FILE, {
    measured_at: new Date().toISOString(),
    source:
      'npm run bench (bench/packing.ts): the real data through the API packing, the transformer packing and the local Firehose counters',
    lines: f.lines,
    kinesis: f.kinesis,
    firehose: f.firehose,
    parquet_bytes_per_line: Math.round(f.parquetBytesPerLine * 10) / 10,
    dynamodb_items_per_line: Math.round(f.dynamoItemsPerLine * 100) / 100,
    dynamodb_index_writes_per_line: Math.round(f.dynamoIndexWritesPerLine * 100) / 100,
  });
  const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
  const goal = (ok: boolean) => (ok ? 'met' : '**missed**');
  const perRecord = (k: { records: number }) => f.lines / k.records;
  const ratio = (x: { bytes: number; billedBytes: number }) => x.billedBytes / x.bytes;
  const shard = (k: { records: number; bytes: number }) => shardLinesPerSecond(k.records, k.bytes, f.lines);
  const packedShard = shard(f.kinesis.packed);
  return [
    `### Packing on the data path (real data, ${n(f.lines)} clean lines, ${n(REPLAY_DEFAULTS.batchRows)}-row requests)`,
    '',
    `Kinesis: what the API puts (record bytes count data and partition key, as Kinesis does; a shard takes ${n(SHARD.recordsPerS)} records/s and 1 MiB/s). Firehose: what the transformer sends for batches of ${TRANSFORM_EVENT_SOURCE.batchSize} Kinesis records, packed into records of at most ${FIREHOSE_RECORD_KB.default} KiB; billed bytes are counted by the local Firehose (each record rounded up to 5 KB).`,
    '',
    '| figure | packed (v2) | reference: one line a record (v1), same run | goal |',
    '|---|---|---|---|',
    `| lines per Kinesis record (mean) | ${n(perRecord(f.kinesis.packed), 1)} | ${n(perRecord(f.kinesis.unpacked), 1)} | ≥ 10: ${goal(perRecord(f.kinesis.packed) >= 10)} |`,
    `| Kinesis bytes per line | ${n(f.kinesis.packed.bytes / f.lines, 1)} | ${n(f.kinesis.unpacked.bytes / f.lines, 1)} | |`,
    `| lines/s one shard takes (min of both limits) | ${n(packedShard)} | ${n(shard(f.kinesis.unpacked))} | ≥ 3,000: ${goal(packedShard >= 3_000)} |`,
    `| Firehose records | ${n(f.firehose.packed.records)} | ${n(f.firehose.unpacked.records)} | |`,
    `| Firehose billed bytes / actual bytes | ${n(ratio(f.firehose.packed), 3)} | ${n(ratio(f.firehose.unpacked), 1)} | ≤ 1.2: ${goal(ratio(f.firehose.packed) <= 1.2)} |`,
    `| Firehose billed GB per million lines | ${n(((f.firehose.packed.billedBytes / f.lines) * 1e6) / 1e9, 3)} | ${n(((f.firehose.unpacked.billedBytes / f.lines) * 1e6) / 1e9, 3)} | |`,
    '',
    `Kinesis's own record limit is ${n(KINESIS_LIMITS.maxRecordBytes)} bytes; the largest packed record is bounded by PACKED_RECORD_MAX_BYTES in src/stream/envelope.ts.`,
    '',
  ].join('\n');
}
