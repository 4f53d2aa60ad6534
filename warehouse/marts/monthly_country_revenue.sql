-- marts.monthly_country_revenue: net product revenue per calendar month and customer country.
--
-- `month` is the first day of the month, as a DATE, so BI tools put it on a time axis without parsing.
-- `customers` counts distinct known customers; guest lines (no CustomerID) add revenue but no customer.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.monthly_country_revenue (
  month DATE NOT NULL,
  country VARCHAR(256) NOT NULL,
  invoices BIGINT NOT NULL,
  customers BIGINT NOT NULL,
  revenue DECIMAL(18,3) NOT NULL
);

DELETE FROM marts.monthly_country_revenue;

INSERT INTO marts.monthly_country_revenue (month, country, invoices, customers, revenue)
SELECT
  CAST(DATE_TRUNC('month', invoice_date) AS DATE) AS month,
  country,
  COUNT(DISTINCT invoice_no) AS invoices,
  COUNT(DISTINCT customer_id) AS customers,
  SUM(line_total) AS revenue
FROM staging.invoice_lines
WHERE NOT is_adjustment
GROUP BY CAST(DATE_TRUNC('month', invoice_date) AS DATE), country;
