-- raw.invoice_lines: the landing table, append-only.
--
-- Firehose (the stream path) and the batch COPY write here; nothing ever updates or deletes. At-least-once
-- delivery means a line can arrive twice, so nothing reads this table except staging, which dedupes.
-- The columns are the record contract (src/core/schema.ts); a test checks that they still match.
--
-- Corrections are rows too: change_version and change_kind say which write stored a row (an add, a
-- replace of its invoice, or a delete tombstone), and staging applies the newest (src/core/changes.ts).
-- Rows stored before those columns existed have them null, read as version 0, `add`.
--
-- "raw" is quoted because RAW is a reserved word in Redshift (a column encoding); PostgreSQL folds the
-- quoted lower-case name to the same schema, so the statement runs unchanged on both.
CREATE SCHEMA IF NOT EXISTS "raw";

CREATE TABLE IF NOT EXISTS "raw".invoice_lines (
  line_id VARCHAR(32) NOT NULL,
  invoice_no VARCHAR(32) NOT NULL,
  stock_code VARCHAR(32) NOT NULL,
  description VARCHAR(256),
  quantity INTEGER NOT NULL,
  invoice_date TIMESTAMP NOT NULL,
  unit_price DECIMAL(18,3) NOT NULL,
  customer_id INTEGER,
  country VARCHAR(64) NOT NULL,
  line_total DECIMAL(18,3) NOT NULL,
  is_cancellation BOOLEAN NOT NULL,
  is_adjustment BOOLEAN NOT NULL,
  change_version BIGINT,
  change_kind VARCHAR(8)
);
