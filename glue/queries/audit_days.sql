-- Distinct lines, distinct invoices and the sum of line_total per invoice day: the lake's side of ecomflow audit.
SELECT
  CONCAT(year, '-', month, '-', day) AS invoice_day,
  COUNT(DISTINCT line_id) AS lines,
  COUNT(DISTINCT invoice_no) AS invoices,
  CAST(SUM(line_total) AS DECIMAL(18,3)) AS total
FROM invoice_lines
GROUP BY year, month, day
ORDER BY invoice_day
