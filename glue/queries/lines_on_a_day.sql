-- Distinct lines and net product revenue of one day, reading only that day's partition: pass year, month
-- and day as zero-padded strings ('2011', '11', '25'). Partition projection turns the filter into one S3
-- prefix, so the query scans a day, not the lake (the views scan everything).
-- DISTINCT drops duplicate deliveries: copies of a line_id are identical rows.
SELECT
  COUNT(*) AS lines,
  CAST(SUM(CASE WHEN NOT is_adjustment THEN line_total ELSE 0 END) AS DECIMAL(18,3)) AS revenue
FROM (
  SELECT DISTINCT line_id, line_total, is_adjustment
  FROM invoice_lines
  WHERE year = ? AND month = ? AND day = ?
) day_lines
