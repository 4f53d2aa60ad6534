-- daily_revenue: the lake's twin of marts.daily_revenue (warehouse/marts/daily_revenue.sql has the rules).
-- The CASTs pin each column to the mart's type: SUM widens (decimal(38,3), and HUGEINT on DuckDB), and a
-- deployed view's stored column types must match what its query returns.
CREATE OR REPLACE VIEW daily_revenue AS
SELECT
  CAST(invoice_date AS DATE) AS day,
  COUNT(DISTINCT invoice_no) AS invoices,
  COUNT(*) AS lines,
  CAST(SUM(quantity) AS BIGINT) AS units,
  CAST(SUM(line_total) AS DECIMAL(18,3)) AS revenue
FROM invoice_lines
WHERE NOT is_adjustment
GROUP BY CAST(invoice_date AS DATE)
