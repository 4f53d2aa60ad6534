-- invoice_lines: the lines an analyst should see, each line_id once. This is the table analysts, the marts
-- and the named queries read; the physical Glue table under it is invoice_lines_raw.
--
-- The lake is append-only and Firehose delivers at least once, so invoice_lines_raw can hold a line twice,
-- and compaction briefly holds a day's lines in both its new file and the old ones. Corrections are rows
-- too, each with the write that stored it (change_version, change_kind). The rule of src/core/changes.ts,
-- the same as staging's in the warehouse and compaction's, within one invoice on one day:
--   - each line_id shows its newest row (highest version; a tombstone wins a tie);
--   - a tombstone (`delete`) hides its line;
--   - the newest replace or delete of the invoice is a floor: rows older than it are hidden, so a late or
--     repeated delivery of an older write can never undo a newer one.
-- Rows from before versions existed have null change columns, read as version 0, `add`.
--
-- Both windows are partitioned by the partition columns (a line_id covers the invoice and its date, so
-- they do not change which rows are kept), which lets the engine push a filter on year, month and day
-- through them to the scan, so partition pruning still works through the view: Trino pushes a predicate
-- through a window when all its columns are PARTITION BY columns (prestodb/presto#12034, trinodb/trino#1272).
CREATE OR REPLACE VIEW invoice_lines AS
SELECT
  line_id, invoice_no, stock_code, description, quantity, invoice_date,
  unit_price, customer_id, country, line_total, is_cancellation, is_adjustment,
  year, month, day
FROM (
  SELECT
    l.line_id, l.invoice_no, l.stock_code, l.description, l.quantity, l.invoice_date,
    l.unit_price, l.customer_id, l.country, l.line_total, l.is_cancellation, l.is_adjustment,
    l.year, l.month, l.day,
    COALESCE(l.change_version, 0) AS change_version,
    COALESCE(l.change_kind, 'add') AS change_kind,
    ROW_NUMBER() OVER (
      PARTITION BY l.year, l.month, l.day, l.line_id
      ORDER BY COALESCE(l.change_version, 0) DESC, CASE WHEN l.change_kind = 'delete' THEN 0 ELSE 1 END
    ) AS newest,
    MAX(CASE WHEN l.change_kind IN ('replace', 'delete') THEN l.change_version END) OVER (
      PARTITION BY l.year, l.month, l.day, l.invoice_no
    ) AS invoice_floor
  FROM invoice_lines_raw l
) versions
WHERE newest = 1
  AND change_kind <> 'delete'
  AND change_version >= COALESCE(invoice_floor, 0)
