-- staging.product_descriptions: one description per stock code, shared by product_sales and top_products.
--
-- A stock code carries several descriptions over time (typos, renames, "?" and damage notes on stock
-- adjustments). The name shown is the most frequent one: the non-null description on the most product
-- lines of that code, all time. Ties go to the description seen most recently, then to the smallest
-- description, so every engine picks the same row. Codes whose lines have no description at all are
-- absent, and the marts show a null description for them.
CREATE TABLE IF NOT EXISTS staging.product_descriptions (
  stock_code VARCHAR(256) NOT NULL,
  description VARCHAR(256) NOT NULL
);

-- A full rebuild: the table is small (a few thousand codes), and any new line can change a pick.
-- DELETE, not TRUNCATE: TRUNCATE commits the open transaction on Redshift, which would expose an empty
-- table to readers mid-refresh.
DELETE FROM staging.product_descriptions;

INSERT INTO staging.product_descriptions (stock_code, description)
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
    FROM staging.invoice_lines
    WHERE NOT is_adjustment AND description IS NOT NULL
    GROUP BY stock_code, description
  ) counted
) ranked
WHERE ranked.pick = 1;
