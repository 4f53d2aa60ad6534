-- Distinct lines, distinct invoices and the sum of line_total per invoice day in staging (one row per
-- line): the warehouse's side of ecomflow audit. Runs on Redshift and on the local PostgreSQL alike.
SELECT
  TO_CHAR(invoice_date, 'YYYY-MM-DD') AS invoice_day,
  COUNT(DISTINCT line_id) AS lines,
  COUNT(DISTINCT invoice_no) AS invoices,
  SUM(line_total) AS total
FROM staging.invoice_lines
GROUP BY 1
ORDER BY 1
