-- marts.product_sales: net units and revenue per calendar month and stock code.
--
-- "Last month's unit sales by product" is a filter on this table (glue/queries has the Athena version).
-- The description is the code's most frequent one (staging.product_descriptions), the same in every
-- month, so a product keeps one name across a report.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.product_sales (
  month DATE NOT NULL,
  stock_code VARCHAR(256) NOT NULL,
  description VARCHAR(256),
  units BIGINT NOT NULL,
  revenue DECIMAL(18,3) NOT NULL
);

DELETE FROM marts.product_sales;

INSERT INTO marts.product_sales (month, stock_code, description, units, revenue)
SELECT sold.month, sold.stock_code, d.description, sold.units, sold.revenue
FROM (
  SELECT
    CAST(DATE_TRUNC('month', invoice_date) AS DATE) AS month,
    stock_code,
    SUM(quantity) AS units,
    SUM(line_total) AS revenue
  FROM staging.invoice_lines
  WHERE NOT is_adjustment
  GROUP BY CAST(DATE_TRUNC('month', invoice_date) AS DATE), stock_code
) sold
LEFT JOIN staging.product_descriptions d ON d.stock_code = sold.stock_code;
