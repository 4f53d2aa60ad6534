/**
 * What `npm run bench` measured that the cost model needs: record counts and bytes on Kinesis and Firehose
 * for the real data, before and after packing, and the lake's Parquet bytes a line. Kept in
 * config/measurements.json, which the bench rewrites.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CostError } from './errors.js';

export interface Measurements {
  measured_at: string;
  source: string;
  lines: number;
  kinesis: Record<'unpacked' | 'packed', { records: number; bytes: number }>;
  firehose: Record<'unpacked' | 'packed', { records: number; bytes: number; billedBytes: number }>;
  parquet_bytes_per_line: number;
  /** DynamoDB items a line costs (line, membership, customer line), from the real data. */
  dynamodb_items_per_line: number;
  /** Writes a line costs the by_stock index: its membership items, each projected into the index. */
  dynamodb_index_writes_per_line: number;
}

/** Parses and checks measurements; a wrong field is named. */
export function parseMeasurements(text: string, where: string): Measurements {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new CostError(`${where} is not JSON: ${(cause as Error).message}`, { cause });
  }
  const m = value as Measurements;
  const numbers: [string, unknown][] = [
    ['lines', m?.lines],
    ['parquet_bytes_per_line', m?.parquet_bytes_per_line],
    ['dynamodb_items_per_line', m?.dynamodb_items_per_line],
    ['dynamodb_index_writes_per_line', m?.dynamodb_index_writes_per_line],
    ...(['unpacked', 'packed'] as const).flatMap((k): [string, unknown][] => [
      [`kinesis.${k}.records`, m?.kinesis?.[k]?.records],
      [`kinesis.${k}.bytes`, m?.kinesis?.[k]?.bytes],
      [`firehose.${k}.records`, m?.firehose?.[k]?.records],
      [`firehose.${k}.bytes`, m?.firehose?.[k]?.bytes],
      [`firehose.${k}.billedBytes`, m?.firehose?.[k]?.billedBytes],
    ]),
  ];
  for (const [name, v] of numbers) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new CostError(`${where}: ${name} must be a positive number, not ${JSON.stringify(v)}`);
    }
  }
  return m;
}

export function readMeasurements(path: string): Measurements {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CostError(`cannot read ${path}; run npm run bench to measure`, { cause });
  }
  return parseMeasurements(text, path);
}

export function writeMeasurements(path: string, m: Measurements): void {
  writeFileSync(path, `${JSON.stringify(m, null, 2)}\n`);
}
