-- product_country_sales: the lake's twin of marts.product_country_sales.
CREATE OR REPLACE VIEW product_country_sales AS
SELECT sold.month, sold.country, sold.stock_code, d.description, sold.units, sold.revenue
FROM (
  SELECT
    CAST(date_trunc('month', invoice_date) AS DATE) AS month,
    country,
    stock_code,
    CAST(SUM(quantity) AS BIGINT) AS units,
    CAST(SUM(line_total) AS DECIMAL(18,3)) AS revenue
  FROM invoice_lines
  WHERE NOT is_adjustment
  GROUP BY CAST(date_trunc('month', invoice_date) AS DATE), country, stock_code
) sold
LEFT JOIN product_descriptions d ON d.stock_code = sold.stock_code
