-- marts.daily_revenue: one row per day with product sales.
--
-- Every mart reads product lines only (NOT is_adjustment): postage, bank charges, manual entries and
-- A-invoices are not sales. Cancellations stay in, with their negative quantities and totals, so units
-- and revenue are net: revenue = SUM(line_total) over product lines. `invoices` counts cancellation
-- invoices too, since they are invoices on that day.
--
-- Marts are tables, not views, so Tableau and Power BI read a few hundred rows instead of aggregating
-- half a million lines per dashboard tile. Each refresh rebuilds them inside the refresh transaction
-- (DELETE then INSERT; readers see the old rows until the commit).
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.daily_revenue (
  day DATE NOT NULL,
  invoices BIGINT NOT NULL,
  lines BIGINT NOT NULL,
  units BIGINT NOT NULL,
  revenue DECIMAL(18,3) NOT NULL
);

DELETE FROM marts.daily_revenue;

-- invoice_date is UTC (the source's local time, stored as UTC), so CAST(... AS DATE) is the source's day.
INSERT INTO marts.daily_revenue (day, invoices, lines, units, revenue)
SELECT
  CAST(invoice_date AS DATE) AS day,
  COUNT(DISTINCT invoice_no) AS invoices,
  COUNT(*) AS lines,
  SUM(quantity) AS units,
  SUM(line_total) AS revenue
FROM staging.invoice_lines
WHERE NOT is_adjustment
GROUP BY CAST(invoice_date AS DATE);
