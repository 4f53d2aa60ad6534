-- marts.loyalty_balances: each customer's loyalty balance, from marts.loyalty_points (built just before,
-- in the same refresh transaction). One row per customer with a purchase invoice, zeros included.
--
-- points: the points of the invoices whose return period is over (is_earned), what GET /customers/{id}
--   shows after the refresh publishes it to DynamoDB (docs/loyalty.md).
-- pending_points: the points of invoices still inside their return period; a cancellation can lower them.
-- earned_invoices: how many invoices the points come from.
-- as_of: the reference time the balance holds at, the latest invoice_date in the data (see
--   loyalty_points.sql for why the data, not the clock).
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.loyalty_balances (
  customer_id INTEGER NOT NULL,
  points BIGINT NOT NULL,
  pending_points BIGINT NOT NULL,
  earned_invoices BIGINT NOT NULL,
  as_of TIMESTAMP NOT NULL
);

DELETE FROM marts.loyalty_balances;

INSERT INTO marts.loyalty_balances (customer_id, points, pending_points, earned_invoices, as_of)
SELECT
  totals.customer_id,
  totals.points,
  totals.pending_points,
  totals.earned_invoices,
  reference.as_of
FROM (
  SELECT
    customer_id,
    SUM(CASE WHEN is_earned THEN points ELSE 0 END) AS points,
    SUM(CASE WHEN is_earned THEN 0 ELSE points END) AS pending_points,
    COUNT(CASE WHEN is_earned THEN 1 END) AS earned_invoices
  FROM marts.loyalty_points
  GROUP BY customer_id
) totals
CROSS JOIN (
  SELECT MAX(invoice_date) AS as_of FROM staging.invoice_lines
) reference;
