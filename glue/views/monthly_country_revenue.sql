-- monthly_country_revenue: the lake's twin of marts.monthly_country_revenue.
CREATE OR REPLACE VIEW monthly_country_revenue AS
SELECT
  CAST(date_trunc('month', invoice_date) AS DATE) AS month,
  country,
  COUNT(DISTINCT invoice_no) AS invoices,
  COUNT(DISTINCT customer_id) AS customers,
  CAST(SUM(line_total) AS DECIMAL(18,3)) AS revenue
FROM invoice_lines
WHERE NOT is_adjustment
GROUP BY CAST(date_trunc('month', invoice_date) AS DATE), country
