-- marts.top_products: the 15 products with the highest net revenue, all time, rank 1 first.
--
-- ROW_NUMBER, not RANK: exactly 15 rows even on a tie, which is broken by stock code so every engine
-- ranks the same way.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.top_products (
  rank INTEGER NOT NULL,
  stock_code VARCHAR(256) NOT NULL,
  description VARCHAR(256),
  units BIGINT NOT NULL,
  revenue DECIMAL(18,3) NOT NULL
);

DELETE FROM marts.top_products;

INSERT INTO marts.top_products (rank, stock_code, description, units, revenue)
SELECT ranked.position, ranked.stock_code, ranked.description, ranked.units, ranked.revenue
FROM (
  SELECT
    totals.stock_code,
    d.description,
    totals.units,
    totals.revenue,
    ROW_NUMBER() OVER (ORDER BY totals.revenue DESC, totals.stock_code) AS position
  FROM (
    SELECT stock_code, SUM(quantity) AS units, SUM(line_total) AS revenue
    FROM staging.invoice_lines
    WHERE NOT is_adjustment
    GROUP BY stock_code
  ) totals
  LEFT JOIN staging.product_descriptions d ON d.stock_code = totals.stock_code
) ranked
WHERE ranked.position <= 15;
