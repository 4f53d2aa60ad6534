-- top_products: the lake's twin of marts.top_products (top 15 by net revenue, ties by stock code).
CREATE OR REPLACE VIEW top_products AS
SELECT
  CAST(ranked.position AS INTEGER) AS rank,
  ranked.stock_code,
  ranked.description,
  ranked.units,
  ranked.revenue
FROM (
  SELECT
    totals.stock_code,
    d.description,
    totals.units,
    totals.revenue,
    ROW_NUMBER() OVER (ORDER BY totals.revenue DESC, totals.stock_code) AS position
  FROM (
    SELECT
      stock_code,
      CAST(SUM(quantity) AS BIGINT) AS units,
      CAST(SUM(line_total) AS DECIMAL(18,3)) AS revenue
    FROM invoice_lines
    WHERE NOT is_adjustment
    GROUP BY stock_code
  ) totals
  LEFT JOIN product_descriptions d ON d.stock_code = totals.stock_code
) ranked
WHERE ranked.position <= 15
