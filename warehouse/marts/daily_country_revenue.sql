-- marts.daily_country_revenue: one row per day and customer country with product sales.
--
-- daily_revenue split by country, for a dashboard filtered by a date range and a country: the filter sums
-- these rows, so no tile recomputes anything from the lines. The rules are daily_revenue's: product lines
-- only (NOT is_adjustment), cancellations in with their negative quantities and totals, so units and
-- revenue are net. Summed over countries, lines, units and revenue give daily_revenue's figures exactly; an
-- invoice belongs to one customer, so to one country, and `invoices` adds up too (a test checks both on the
-- real data).
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.daily_country_revenue (
  day DATE NOT NULL,
  country VARCHAR(256) NOT NULL,
  invoices BIGINT NOT NULL,
  lines BIGINT NOT NULL,
  units BIGINT NOT NULL,
  revenue DECIMAL(18,3) NOT NULL
);

DELETE FROM marts.daily_country_revenue;

-- invoice_date is UTC (the source's local time, stored as UTC), so CAST(... AS DATE) is the source's day.
INSERT INTO marts.daily_country_revenue (day, country, invoices, lines, units, revenue)
SELECT
  CAST(invoice_date AS DATE) AS day,
  country,
  COUNT(DISTINCT invoice_no) AS invoices,
  COUNT(*) AS lines,
  SUM(quantity) AS units,
  SUM(line_total) AS revenue
FROM staging.invoice_lines
WHERE NOT is_adjustment
GROUP BY CAST(invoice_date AS DATE), country;
