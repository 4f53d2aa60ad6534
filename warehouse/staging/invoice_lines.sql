-- staging.invoice_lines: one row per line_id, typed as the record contract. The dedup point.
--
-- Why dedupe here: Firehose and the Lambda retries deliver at least once, so raw can hold a line twice.
-- A line_id is a hash of the whole normalised line, so two raw rows with one line_id are identical:
-- keeping any one of them is correct, and ROW_NUMBER() picks one (Redshift has no DISTINCT ON).
--
-- Incremental and idempotent: only line ids staging does not hold yet are inserted, so a refresh reads
-- the new raw rows once and a second refresh inserts nothing. raw is append-only and a line_id never
-- changes its values, so nothing already staged needs updating. To rebuild from scratch (after raw was
-- reloaded), `ecomflow refresh --full` deletes the staged rows first, in the same transaction.
--
-- No DISTKEY/SORTKEY: PostgreSQL rejects them, and Redshift's automatic table optimisation picks both
-- for tables created without them.
CREATE SCHEMA IF NOT EXISTS staging;

CREATE TABLE IF NOT EXISTS staging.invoice_lines (
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
  is_adjustment BOOLEAN NOT NULL
);

-- The anti-join runs before the window, so only new raw rows are numbered: a refresh after a small load
-- sorts a small set, not the whole history.
INSERT INTO staging.invoice_lines (
  line_id, invoice_no, stock_code, description, quantity, invoice_date,
  unit_price, customer_id, country, line_total, is_cancellation, is_adjustment
)
SELECT
  n.line_id, n.invoice_no, n.stock_code, n.description, n.quantity, n.invoice_date,
  n.unit_price, n.customer_id, n.country, n.line_total, n.is_cancellation, n.is_adjustment
FROM (
  SELECT
    r.line_id, r.invoice_no, r.stock_code, r.description, r.quantity, r.invoice_date,
    r.unit_price, r.customer_id, r.country, r.line_total, r.is_cancellation, r.is_adjustment,
    ROW_NUMBER() OVER (PARTITION BY r.line_id ORDER BY r.line_id) AS copy_no
  FROM "raw".invoice_lines r
  WHERE NOT EXISTS (SELECT 1 FROM staging.invoice_lines s WHERE s.line_id = r.line_id)
) n
WHERE n.copy_no = 1;
