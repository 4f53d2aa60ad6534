-- marts.cancellations: cancelled product lines per calendar month and customer country.
--
-- A cancellation is a line of a C-invoice; it is counted in the month it was cancelled, which is not
-- always the month of the sale it reverses. Cancelled adjustments (a refunded postage, a manual credit)
-- are left out, as in every mart.
-- cancelled_value is the amount given back, as a positive number: -SUM(line_total) of those lines.
-- cancellation_rate = cancelled_lines / all product lines of that month and country (sales and
-- cancellations), between 0 and 1. It is a DOUBLE PRECISION ratio: integer / integer in floating point
-- is correctly rounded on every engine, so Redshift, PostgreSQL, Athena and DuckDB store the same value
-- (a decimal quotient would be rounded differently by each).
-- product_lines is that denominator, kept so that a rate over several rows (a quarter, every country) is
-- SUM(cancelled_lines) / SUM(product_lines), exactly: an average of the rows' rates would weigh a country
-- of ten lines like one of ten thousand.
-- Every month and country with product lines has a row, with zeros when nothing was cancelled.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.cancellations (
  month DATE NOT NULL,
  country VARCHAR(256) NOT NULL,
  cancelled_lines BIGINT NOT NULL,
  cancelled_value DECIMAL(18,3) NOT NULL,
  cancellation_rate DOUBLE PRECISION NOT NULL,
  product_lines BIGINT NOT NULL
);

DELETE FROM marts.cancellations;

INSERT INTO marts.cancellations (
  month, country, cancelled_lines, cancelled_value, cancellation_rate, product_lines
)
SELECT
  monthly.month,
  monthly.country,
  monthly.cancelled_lines,
  monthly.cancelled_value,
  CAST(monthly.cancelled_lines AS DOUBLE PRECISION) / monthly.product_lines AS cancellation_rate,
  monthly.product_lines
FROM (
  SELECT
    CAST(DATE_TRUNC('month', invoice_date) AS DATE) AS month,
    country,
    COUNT(CASE WHEN is_cancellation THEN 1 END) AS cancelled_lines,
    -SUM(CASE WHEN is_cancellation THEN line_total ELSE 0 END) AS cancelled_value,
    COUNT(*) AS product_lines
  FROM staging.invoice_lines
  WHERE NOT is_adjustment
  GROUP BY CAST(DATE_TRUNC('month', invoice_date) AS DATE), country
) monthly;
