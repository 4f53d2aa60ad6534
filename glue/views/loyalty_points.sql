-- loyalty_points: the lake's twin of marts.loyalty_points; warehouse/marts/loyalty_points.sql documents
-- the rule (which cancellations count, how they are allocated, the rounding, the reference time), which is
-- the same here. The return period is written TIMESTAMP + INTERVAL '11' DAY, the one interval form Trino
-- and DuckDB read alike (a TIMESTAMP on both).
CREATE OR REPLACE VIEW loyalty_points AS
SELECT
  netted.customer_id,
  netted.invoice_no,
  netted.invoice_date,
  netted.earned_at,
  netted.revenue,
  netted.cancelled_value,
  netted.net_revenue,
  CASE WHEN netted.net_revenue > 0 THEN CAST(FLOOR(netted.net_revenue * 1) AS BIGINT) ELSE CAST(0 AS BIGINT) END
    AS points,
  netted.earned_at <= reference.as_of AS is_earned
FROM (
  SELECT
    purchases.customer_id,
    purchases.invoice_no,
    purchases.invoice_date,
    CAST(purchases.invoice_date AS TIMESTAMP) + INTERVAL '11' DAY AS earned_at,
    purchases.revenue,
    CAST(COALESCE(-allocated.cancelled, 0) AS DECIMAL(18,3)) AS cancelled_value,
    CAST(purchases.revenue + COALESCE(allocated.cancelled, 0) AS DECIMAL(18,3)) AS net_revenue
  FROM (
    SELECT
      customer_id,
      invoice_no,
      CAST(MIN(invoice_date) AS TIMESTAMP) AS invoice_date,
      CAST(SUM(line_total) AS DECIMAL(18,3)) AS revenue
    FROM invoice_lines
    WHERE NOT is_adjustment AND NOT is_cancellation AND customer_id IS NOT NULL
    GROUP BY customer_id, invoice_no
  ) purchases
  LEFT JOIN (
    SELECT picked.customer_id, picked.invoice_no, SUM(picked.line_total) AS cancelled
    FROM (
      SELECT
        c.customer_id,
        c.line_total,
        bought.invoice_no,
        ROW_NUMBER() OVER (
          PARTITION BY c.line_id ORDER BY bought.invoice_date DESC, bought.invoice_no DESC
        ) AS pick
      FROM invoice_lines c
      JOIN (
        SELECT DISTINCT l.customer_id, l.invoice_no, l.stock_code, invoices.invoice_date
        FROM invoice_lines l
        JOIN (
          SELECT customer_id, invoice_no, CAST(MIN(invoice_date) AS TIMESTAMP) AS invoice_date
          FROM invoice_lines
          WHERE NOT is_adjustment AND NOT is_cancellation AND customer_id IS NOT NULL
          GROUP BY customer_id, invoice_no
        ) invoices ON invoices.customer_id = l.customer_id AND invoices.invoice_no = l.invoice_no
        WHERE NOT l.is_adjustment AND NOT l.is_cancellation
      ) bought
        ON bought.customer_id = c.customer_id
        AND bought.stock_code = c.stock_code
        AND c.invoice_date >= bought.invoice_date
        AND c.invoice_date <= CAST(bought.invoice_date AS TIMESTAMP) + INTERVAL '11' DAY
      WHERE c.is_cancellation AND NOT c.is_adjustment AND c.customer_id IS NOT NULL
    ) picked
    WHERE picked.pick = 1
    GROUP BY picked.customer_id, picked.invoice_no
  ) allocated ON allocated.customer_id = purchases.customer_id AND allocated.invoice_no = purchases.invoice_no
) netted
CROSS JOIN (
  SELECT CAST(MAX(invoice_date) AS TIMESTAMP) AS as_of FROM invoice_lines
) reference
