-- marts.customer_rfm: recency, frequency and monetary value per known customer, with a segment.
--
-- Who: every customer_id with at least one purchase (a product line on a non-cancellation invoice).
-- Guests have no id; customers whose only lines are cancellations (of sales older than the data) have
-- no purchase to be recent or frequent about, and are left out.
--
-- first_invoice_at / last_invoice_at: their first and last purchase.
-- recency_days: days from the last purchase to the reference day, which is the day after the last
--   invoice in the data (any line), so the most recent buyers have 1. A fixed reference, not today, keeps
--   a historical data set meaningful and makes the mart a function of the data alone (refresh twice,
--   same rows).
-- frequency: distinct purchase invoices. Not GET /customers/{id}'s `invoices`, which counts every invoice of
--   the customer, cancellations included (C543611 makes customer 17850's 35 there and 34 here); its
--   `last_invoice_at` is likewise the last invoice of any kind, where last_purchase_at here is the last
--   purchase (docs/dynamodb.md says the same from the API's side).
-- monetary: net product revenue, SUM(line_total) over all their product lines, cancellations included
--   (so it can be zero or negative).
-- country: the country of their last purchase line (a handful of customers appear in two countries).
--
-- Segment rule: each of R, F and M is scored 1..5 by quintile, NTILE(5) over the customers ordered so
-- that 5 is best (most recent, most invoices, most money). Ties in the measure are split by customer_id,
-- so the scores are deterministic on every engine. Then, first match wins:
--   champions        R >= 4, F >= 4, M >= 4   recent, frequent, big spenders
--   loyal            R >= 3, F >= 3           buy often and not long ago
--   promising        R >= 4                   recent but few invoices (new or occasional)
--   needs_attention  R = 3                    (F <= 2 here) middling recency, few invoices
--   at_risk          F >= 3                   (R <= 2 here) bought often, not lately
--   hibernating      R = 2                    a while ago, seldom
--   lost             otherwise (R = 1)        long ago, seldom
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.customer_rfm (
  customer_id INTEGER NOT NULL,
  country VARCHAR(256) NOT NULL,
  first_invoice_at TIMESTAMP NOT NULL,
  last_invoice_at TIMESTAMP NOT NULL,
  recency_days INTEGER NOT NULL,
  frequency BIGINT NOT NULL,
  monetary DECIMAL(18,3) NOT NULL,
  segment VARCHAR(32) NOT NULL
);

DELETE FROM marts.customer_rfm;

INSERT INTO marts.customer_rfm (
  customer_id, country, first_invoice_at, last_invoice_at, recency_days, frequency, monetary, segment
)
SELECT
  scored.customer_id,
  scored.country,
  scored.first_invoice_at,
  scored.last_invoice_at,
  scored.recency_days,
  scored.frequency,
  scored.monetary,
  CASE
    WHEN scored.r_score >= 4 AND scored.f_score >= 4 AND scored.m_score >= 4 THEN 'champions'
    WHEN scored.r_score >= 3 AND scored.f_score >= 3 THEN 'loyal'
    WHEN scored.r_score >= 4 THEN 'promising'
    WHEN scored.r_score = 3 THEN 'needs_attention'
    WHEN scored.f_score >= 3 THEN 'at_risk'
    WHEN scored.r_score = 2 THEN 'hibernating'
    ELSE 'lost'
  END AS segment
FROM (
  SELECT
    measured.*,
    NTILE(5) OVER (ORDER BY measured.recency_days DESC, measured.customer_id) AS r_score,
    NTILE(5) OVER (ORDER BY measured.frequency, measured.customer_id) AS f_score,
    NTILE(5) OVER (ORDER BY measured.monetary, measured.customer_id) AS m_score
  FROM (
    SELECT
      totals.customer_id,
      latest.country,
      totals.first_invoice_at,
      totals.last_invoice_at,
      -- DATE - DATE is a whole number of days on both engines (PostgreSQL semantics, kept by Redshift).
      (reference.last_day - CAST(totals.last_invoice_at AS DATE)) + 1 AS recency_days,
      totals.frequency,
      totals.monetary
    FROM (
      SELECT
        customer_id,
        MIN(CASE WHEN NOT is_cancellation THEN invoice_date END) AS first_invoice_at,
        MAX(CASE WHEN NOT is_cancellation THEN invoice_date END) AS last_invoice_at,
        COUNT(DISTINCT CASE WHEN NOT is_cancellation THEN invoice_no END) AS frequency,
        SUM(line_total) AS monetary
      FROM staging.invoice_lines
      WHERE NOT is_adjustment AND customer_id IS NOT NULL
      GROUP BY customer_id
    ) totals
    JOIN (
      SELECT customer_id, country
      FROM (
        SELECT
          customer_id,
          country,
          ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY invoice_date DESC, country) AS recent
        FROM staging.invoice_lines
        WHERE NOT is_adjustment AND NOT is_cancellation AND customer_id IS NOT NULL
      ) purchases
      WHERE purchases.recent = 1
    ) latest ON latest.customer_id = totals.customer_id
    CROSS JOIN (
      SELECT CAST(MAX(invoice_date) AS DATE) AS last_day FROM staging.invoice_lines
    ) reference
  ) measured
) scored;
