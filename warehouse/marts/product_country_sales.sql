-- marts.product_country_sales: net units and revenue per calendar month, customer country and stock code.
--
-- product_sales split by country, for the dashboard's product tiles under a country filter (the top
-- products and last month's unit sales are sums of these rows). The rules are product_sales's: product
-- lines only (NOT is_adjustment), cancellations netted in, and the description is the code's most frequent
-- one (staging.product_descriptions), the same in every month and country. Summed over countries, units and
-- revenue give product_sales's figures exactly.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.product_country_sales (
  month DATE NOT NULL,
  country VARCHAR(256) NOT NULL,
  stock_code VARCHAR(256) NOT NULL,
  description VARCHAR(256),
  units BIGINT NOT NULL,
  revenue DECIMAL(18,3) NOT NULL
);

DELETE FROM marts.product_country_sales;

INSERT INTO marts.product_country_sales (month, country, stock_code, description, units, revenue)
SELECT sold.month, sold.country, sold.stock_code, d.description, sold.units, sold.revenue
FROM (
  SELECT
    CAST(DATE_TRUNC('month', invoice_date) AS DATE) AS month,
    country,
    stock_code,
    SUM(quantity) AS units,
    SUM(line_total) AS revenue
  FROM staging.invoice_lines
  WHERE NOT is_adjustment
  GROUP BY CAST(DATE_TRUNC('month', invoice_date) AS DATE), country, stock_code
) sold
LEFT JOIN staging.product_descriptions d ON d.stock_code = sold.stock_code;
