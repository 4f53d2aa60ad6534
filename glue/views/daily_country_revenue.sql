-- daily_country_revenue: the lake's twin of marts.daily_country_revenue (warehouse/marts/daily_country_revenue.sql
-- has the rules). The CASTs pin each column to the mart's type, as in daily_revenue.
CREATE OR REPLACE VIEW daily_country_revenue AS
SELECT
  CAST(invoice_date AS DATE) AS day,
  country,
  COUNT(DISTINCT invoice_no) AS invoices,
  COUNT(*) AS lines,
  CAST(SUM(quantity) AS BIGINT) AS units,
  CAST(SUM(line_total) AS DECIMAL(18,3)) AS revenue
FROM invoice_lines
WHERE NOT is_adjustment
GROUP BY CAST(invoice_date AS DATE), country
