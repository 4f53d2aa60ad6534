-- product_sales: the lake's twin of marts.product_sales.
CREATE OR REPLACE VIEW product_sales AS
SELECT sold.month, sold.stock_code, d.description, sold.units, sold.revenue
FROM (
  SELECT
    CAST(date_trunc('month', invoice_date) AS DATE) AS month,
    stock_code,
    CAST(SUM(quantity) AS BIGINT) AS units,
    CAST(SUM(line_total) AS DECIMAL(18,3)) AS revenue
  FROM invoice_lines
  WHERE NOT is_adjustment
  GROUP BY CAST(date_trunc('month', invoice_date) AS DATE), stock_code
) sold
LEFT JOIN product_descriptions d ON d.stock_code = sold.stock_code
