-- invoice_lines_unique: the lake's lines, one row per line_id. Every other view reads this one.
--
-- The lake is append-only and Firehose delivers at least once, so invoice_lines can hold a line twice
-- (the warehouse dedupes the same way in staging.invoice_lines). Copies of a line_id are identical, and
-- they even share a partition (the id covers invoice_date), so keeping any one is correct.
-- The partition columns (year, month, day) are left out: they repeat invoice_date.
CREATE OR REPLACE VIEW invoice_lines_unique AS
SELECT
  line_id, invoice_no, stock_code, description, quantity, invoice_date,
  unit_price, customer_id, country, line_total, is_cancellation, is_adjustment
FROM (
  SELECT
    l.line_id, l.invoice_no, l.stock_code, l.description, l.quantity, l.invoice_date,
    l.unit_price, l.customer_id, l.country, l.line_total, l.is_cancellation, l.is_adjustment,
    ROW_NUMBER() OVER (PARTITION BY l.line_id ORDER BY l.line_id) AS copy_no
  FROM invoice_lines l
) numbered
WHERE copy_no = 1
