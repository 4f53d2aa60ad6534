-- Units and net revenue by product in the last full month: the month before the latest month with data.
-- On a live lake the latest month is the current, partial one, so this is "last month"; on the
-- historical data set it is November 2011. No date arithmetic, so it runs as is on Athena and DuckDB.
SELECT p.stock_code, p.description, p.units, p.revenue
FROM product_sales p
JOIN (
  SELECT month, ROW_NUMBER() OVER (ORDER BY month DESC) AS months_back
  FROM (SELECT DISTINCT month FROM product_sales) months
) recent ON recent.month = p.month AND recent.months_back = 2
ORDER BY p.units DESC, p.stock_code
