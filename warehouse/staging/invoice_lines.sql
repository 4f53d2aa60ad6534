-- staging.invoice_lines: the lines an analyst should see, one row per line_id, typed as the record contract.
-- The dedup point, and the point where corrections apply.
--
-- raw is append-only and holds every row ever delivered: copies (Firehose and the Lambda retries deliver
-- at least once), and the rows of corrections, each with the write that stored it (change_version,
-- change_kind). Which rows are visible is the rule of src/core/changes.ts, the same in the lake's
-- invoice_lines view and in compaction. Within one invoice on one day:
--   - each line_id shows its newest row (highest version; a tombstone wins a tie);
--   - a tombstone (`delete`) hides its line;
--   - the newest replace or delete of the invoice is a floor: rows older than it are hidden, so a late or
--     repeated delivery of an older write can never undo a newer one.
--
-- Incremental and idempotent. staging.stored_rows remembers every raw row already applied (its line,
-- version and kind). A refresh finds the (invoice, day) groups that have a raw row not applied yet,
-- deletes their staged lines, and stages them again from all of raw's rows for those groups. A load of
-- new lines touches only their invoices; a second refresh finds nothing and changes nothing. The marts are
-- rebuilt from staging after it, so a correction restates them. `ecomflow refresh --full` deletes the
-- staged rows and stored_rows first, in the same transaction, and everything is staged again.
--
-- No DISTKEY/SORTKEY: PostgreSQL rejects them, and Redshift's automatic table optimisation picks both
-- for tables created without them. Common SQL of both engines: no DELETE ... USING, no ON CONFLICT.
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

-- Every raw row already applied, once: the refresh's memory of what it has seen.
CREATE TABLE IF NOT EXISTS staging.stored_rows (
  line_id VARCHAR(32) NOT NULL,
  invoice_no VARCHAR(32) NOT NULL,
  invoice_day DATE NOT NULL,
  change_version BIGINT NOT NULL,
  change_kind VARCHAR(8) NOT NULL
);

-- The (invoice, day) groups this refresh restages; emptied and refilled by each refresh, under its lock.
CREATE TABLE IF NOT EXISTS staging.changed_groups (
  invoice_no VARCHAR(32) NOT NULL,
  invoice_day DATE NOT NULL
);

DELETE FROM staging.changed_groups;

INSERT INTO staging.changed_groups (invoice_no, invoice_day)
SELECT DISTINCT r.invoice_no, CAST(r.invoice_date AS DATE)
FROM "raw".invoice_lines r
WHERE NOT EXISTS (
  SELECT 1 FROM staging.stored_rows s
  WHERE s.line_id = r.line_id
    AND s.change_version = COALESCE(r.change_version, 0)
    AND s.change_kind = COALESCE(r.change_kind, 'add')
);

DELETE FROM staging.invoice_lines
WHERE line_id IN (
  SELECT s.line_id
  FROM staging.invoice_lines s
  JOIN staging.changed_groups g ON g.invoice_no = s.invoice_no AND g.invoice_day = CAST(s.invoice_date AS DATE)
);

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
    COALESCE(r.change_version, 0) AS change_version,
    COALESCE(r.change_kind, 'add') AS change_kind,
    -- A line_id covers the invoice and its date, so this is "per line, within its invoice and day".
    ROW_NUMBER() OVER (
      PARTITION BY r.line_id
      ORDER BY COALESCE(r.change_version, 0) DESC, CASE WHEN r.change_kind = 'delete' THEN 0 ELSE 1 END
    ) AS newest,
    MAX(CASE WHEN r.change_kind IN ('replace', 'delete') THEN r.change_version END) OVER (
      PARTITION BY r.invoice_no, r.invoice_day
    ) AS invoice_floor
  FROM (
    SELECT l.*, CAST(l.invoice_date AS DATE) AS invoice_day
    FROM "raw".invoice_lines l
    JOIN staging.changed_groups g
      ON g.invoice_no = l.invoice_no AND g.invoice_day = CAST(l.invoice_date AS DATE)
  ) r
) n
WHERE n.newest = 1
  AND n.change_kind <> 'delete'
  AND n.change_version >= COALESCE(n.invoice_floor, 0);

INSERT INTO staging.stored_rows (line_id, invoice_no, invoice_day, change_version, change_kind)
SELECT DISTINCT
  r.line_id, r.invoice_no, CAST(r.invoice_date AS DATE), COALESCE(r.change_version, 0),
  COALESCE(r.change_kind, 'add')
FROM "raw".invoice_lines r
JOIN staging.changed_groups g
  ON g.invoice_no = r.invoice_no AND g.invoice_day = CAST(r.invoice_date AS DATE)
WHERE NOT EXISTS (
  SELECT 1 FROM staging.stored_rows s
  WHERE s.line_id = r.line_id
    AND s.change_version = COALESCE(r.change_version, 0)
    AND s.change_kind = COALESCE(r.change_kind, 'add')
);
