-- cancellations: the lake's twin of marts.cancellations (cancellation_rate is a DOUBLE on purpose: an
-- integer ratio in floating point is the same value on every engine; product_lines, its
-- denominator, lets a rate over several rows be summed exactly).
CREATE OR REPLACE VIEW cancellations AS
SELECT
  monthly.month,
  monthly.country,
  monthly.cancelled_lines,
  monthly.cancelled_value,
  CAST(monthly.cancelled_lines AS DOUBLE) / monthly.product_lines AS cancellation_rate,
  monthly.product_lines
FROM (
  SELECT
    CAST(date_trunc('month', invoice_date) AS DATE) AS month,
    country,
    COUNT(CASE WHEN is_cancellation THEN 1 END) AS cancelled_lines,
    CAST(-SUM(CASE WHEN is_cancellation THEN line_total ELSE 0 END) AS DECIMAL(18,3)) AS cancelled_value,
    COUNT(*) AS product_lines
  FROM invoice_lines
  WHERE NOT is_adjustment
  GROUP BY CAST(date_trunc('month', invoice_date) AS DATE), country
) monthly
