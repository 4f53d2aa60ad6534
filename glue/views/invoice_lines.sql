-- invoice_lines: the lake's lines, each line_id once. This is the table analysts, the marts and the named
-- queries read; the physical Glue table under it is invoice_lines_raw.
--
-- The lake is append-only and Firehose delivers at least once, so invoice_lines_raw can hold a line twice,
-- and compaction briefly holds a day's lines in both its new file and the old ones. Copies of a line_id are
-- identical, and they share a partition (the id covers invoice_date), so keeping any one is correct.
--
-- The window is partitioned by the partition columns as well as by line_id. That changes nothing about
-- which rows are kept (copies share a partition), but it lets the engine push a filter on year, month and
-- day through the window to the scan, so partition pruning still works through the view: Trino pushes a
-- predicate through a window when all its columns are PARTITION BY columns (prestodb/presto#12034,
-- trinodb/trino#1272).
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
    ROW_NUMBER() OVER (PARTITION BY l.year, l.month, l.day, l.line_id ORDER BY l.line_id) AS copy_no
  FROM invoice_lines_raw l
) numbered
WHERE copy_no = 1
