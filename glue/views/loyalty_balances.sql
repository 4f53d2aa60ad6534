-- loyalty_balances: the lake's twin of marts.loyalty_balances (warehouse/marts/loyalty_balances.sql
-- documents the columns), over the view loyalty_points.
CREATE OR REPLACE VIEW loyalty_balances AS
SELECT
  totals.customer_id,
  totals.points,
  totals.pending_points,
  totals.earned_invoices,
  reference.as_of
FROM (
  SELECT
    customer_id,
    CAST(SUM(CASE WHEN is_earned THEN points ELSE 0 END) AS BIGINT) AS points,
    CAST(SUM(CASE WHEN is_earned THEN 0 ELSE points END) AS BIGINT) AS pending_points,
    COUNT(CASE WHEN is_earned THEN 1 END) AS earned_invoices
  FROM loyalty_points
  GROUP BY customer_id
) totals
CROSS JOIN (
  SELECT CAST(MAX(invoice_date) AS TIMESTAMP) AS as_of FROM invoice_lines
) reference
