-- product_descriptions: each stock code's most frequent description (see warehouse/staging/product_descriptions.sql).
-- Ties go to the most recently used description, then the smallest, as in the warehouse.
CREATE OR REPLACE VIEW product_descriptions AS
SELECT ranked.stock_code, ranked.description
FROM (
  SELECT
    counted.stock_code,
    counted.description,
    ROW_NUMBER() OVER (
      PARTITION BY counted.stock_code
      ORDER BY counted.uses DESC, counted.last_used DESC, counted.description
    ) AS pick
  FROM (
    SELECT stock_code, description, COUNT(*) AS uses, MAX(invoice_date) AS last_used
    FROM invoice_lines
    WHERE NOT is_adjustment AND description IS NOT NULL
    GROUP BY stock_code, description
  ) counted
) ranked
WHERE ranked.pick = 1
