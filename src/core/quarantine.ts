/**
 * The quarantine's record contract: what is written for a row that could not be cleaned, whichever path
 * found it. The API (`quarantine/api/`), the transformer (`quarantine/stream/`) and the batch path
 * (`quarantine/batch/`, and `quarantine.ndjson` of `ecomflow clean`) all build their records here, one JSON
 * object per line (NDJSON). The README documents the format.
 */

/** Why a row was quarantined: stable codes, used by the API's answers, the quarantine and the reports. */
export const QUARANTINE_REASONS = {
  missing_field: 'missing_field',
  invalid_quantity: 'invalid_quantity',
  invalid_price: 'invalid_price',
  invalid_date: 'invalid_date',
  invalid_customer_id: 'invalid_customer_id',
  /** A value over its bound in the record contract (FIELD_MAX_BYTES, SOURCE_VALUE_MAX_CHARS in schema.ts). */
  field_too_long: 'field_too_long',
  /**
   * A text field holding a control character other than tab, line feed and carriage return: NUL, which
   * PostgreSQL and Redshift refuse in text (one such line would stall a COPY), and U+001F, which separates
   * the values that line_id hashes (two different lines could otherwise share an id).
   */
  control_character: 'control_character',
  /** The record was split, into more or fewer fields than the header has. */
  wrong_column_count: 'wrong_column_count',
  /** The record could not be split into fields: an unterminated quote, or a JSON row that is not an object. */
  malformed_row: 'malformed_row',
  /** A stream record that is not an ingest envelope (not JSON, or the wrong version or shape). */
  malformed_record: 'malformed_record',
  /** A clean line a store refused as invalid (DynamoDB's ValidationException); the message says why. */
  store_rejected: 'store_rejected',
  /** A clean line whose invoice year is outside the lake's partition projection, so Athena never sees it. */
  outside_lake_years: 'outside_lake_years',
} as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[keyof typeof QUARANTINE_REASONS];

/**
 * The reasons only the stream finds: a record that is not an envelope, a line a store refused, a line the
 * lake's partition projection cannot show.
 */
export const STREAM_REASONS = [
  QUARANTINE_REASONS.malformed_record,
  QUARANTINE_REASONS.store_rejected,
  QUARANTINE_REASONS.outside_lake_years,
] as const;

/** The reasons a row of a file or body can have. */
export type RowReason = Exclude<QuarantineReason, (typeof STREAM_REASONS)[number]>;
export const ROW_REASONS: readonly RowReason[] = Object.values(QUARANTINE_REASONS).filter(
  (reason): reason is RowReason => !(STREAM_REASONS as readonly string[]).includes(reason),
);

/** Where a quarantined row came from, with the ids that find it again. */
export type QuarantineOrigin =
  | { source: 'api'; request_id: string; stage: string }
  | {
      source: 'stream';
      shard_id: string;
      sequence_number: string;
      /** The API request that put it on the stream; null when the record is not an envelope. */
      request_id: string | null;
      stage: string;
    }
  | {
      source: 'batch';
      /** The file: a local path, or `s3://bucket/key` of an upload. */
      object: string;
    };

/** What a rejected row says, before it is given an origin and a time. */
export interface RejectedRow {
  /** 1-based line in the source; null when there is none (a stream record that is not an envelope). */
  line: number | null;
  raw: string;
  reason: QuarantineReason;
  /** The offending source field, in "Online Retail" spelling; null for a row-level problem. */
  field: string | null;
  message: string;
}

/** One line of a quarantine object. */
export interface QuarantineRecord extends RejectedRow {
  origin: QuarantineOrigin;
  /** ISO 8601, UTC. */
  quarantined_at: string;
}

/**
 * The record for a rejected row. Only the contract's fields are kept, in a fixed order, so every path
 * writes the same shape.
 * @example quarantineRecord(rejection, { source: 'batch', object: 'in.csv' }, new Date())
 */
export function quarantineRecord(row: RejectedRow, origin: QuarantineOrigin, at: Date): QuarantineRecord {
  const { line, raw, reason, field, message } = row;
  return { origin, line, raw, reason, field, message, quarantined_at: at.toISOString() };
}

/** Where a quarantined row came from: the first folder of its key, and a partition of the table. */
export const QUARANTINE_SOURCES = ['api', 'stream', 'batch'] as const;
export type QuarantineSource = (typeof QUARANTINE_SOURCES)[number];

/**
 * The key of a quarantine object below the quarantine prefix: `<source>/date=<YYYY-MM-DD>/<name>.ndjson`,
 * the layout the quarantine table's partition projection reads (source, then day of quarantine). `name`
 * has no `/`: a reader of one day's folder finds every object of that day directly in it.
 *
 * @example quarantineKey('stream', '2026-12-03', 'shardId-000000000000-4960') === 'stream/date=2026-12-03/shardId-000000000000-4960.ndjson'
 */
export function quarantineKey(source: QuarantineSource, day: string, name: string): string {
  return `${quarantineNamePrefix(source, day, name)}.ndjson`;
}

/** The start of the keys `quarantineKey` gives for names beginning with `namePrefix`. */
export function quarantineNamePrefix(source: QuarantineSource, day: string, namePrefix: string): string {
  return `${source}/date=${day}/${namePrefix.replace(/\//g, '_')}`;
}

/**
 * The quarantine table's columns, in the order of a record's fields (quarantineRecord), with Glue (Hive)
 * types for the JSON SerDe. The table's partition columns come after them: `source` and
 * `quarantine_date`, from the key.
 */
export const QUARANTINE_COLUMNS = [
  {
    name: 'origin',
    glue: 'struct<source:string,request_id:string,stage:string,shard_id:string,sequence_number:string,object:string>',
    comment: 'where the row came from, with the ids that find it again',
  },
  { name: 'line', glue: 'int', comment: '1-based line in the source; null when there is none' },
  { name: 'raw', glue: 'string', comment: 'the row as it arrived' },
  { name: 'reason', glue: 'string', comment: `why: one of ${Object.values(QUARANTINE_REASONS).join(', ')}` },
  { name: 'field', glue: 'string', comment: 'the offending source field; null for a row-level problem' },
  { name: 'message', glue: 'string', comment: 'what was wrong, in words' },
  { name: 'quarantined_at', glue: 'string', comment: 'ISO 8601, UTC' },
] as const satisfies readonly { name: keyof QuarantineRecord; glue: string; comment: string }[];

/** The quarantine table's name, on Athena (resources/quarantine.yml) and on the local engine. */
export const QUARANTINE_TABLE = 'quarantine';

/** The quarantine table's partition columns: the source folder and the day of quarantine. */
export const QUARANTINE_PARTITIONS = ['source', 'quarantine_date'] as const;
