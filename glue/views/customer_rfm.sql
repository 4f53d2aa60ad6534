-- customer_rfm: the lake's twin of marts.customer_rfm; warehouse/marts/customer_rfm.sql documents the
-- population, the measures and the segment rule, which are the same here.
CREATE OR REPLACE VIEW customer_rfm AS
SELECT
  scored.customer_id,
  scored.country,
  scored.first_invoice_at,
  scored.last_invoice_at,
  scored.recency_days,
  scored.frequency,
  scored.monetary,
  CAST(
    CASE
      WHEN scored.r_score >= 4 AND scored.f_score >= 4 AND scored.m_score >= 4 THEN 'champions'
      WHEN scored.r_score >= 3 AND scored.f_score >= 3 THEN 'loyal'
      WHEN scored.r_score >= 4 THEN 'promising'
      WHEN scored.r_score = 3 THEN 'needs_attention'
      WHEN scored.f_score >= 3 THEN 'at_risk'
      WHEN scored.r_score = 2 THEN 'hibernating'
      ELSE 'lost'
    END AS VARCHAR
  ) AS segment
FROM (
  SELECT
    measured.customer_id,
    measured.country,
    measured.first_invoice_at,
    measured.last_invoice_at,
    measured.recency_days,
    measured.frequency,
    measured.monetary,
    NTILE(5) OVER (ORDER BY measured.recency_days DESC, measured.customer_id) AS r_score,
    NTILE(5) OVER (ORDER BY measured.frequency, measured.customer_id) AS f_score,
    NTILE(5) OVER (ORDER BY measured.monetary, measured.customer_id) AS m_score
  FROM (
    SELECT
      totals.customer_id,
      latest.country,
      totals.first_invoice_at,
      totals.last_invoice_at,
      -- The warehouse writes DATE - DATE; Trino and DuckDB both spell it date_diff('day', from, to).
      CAST(date_diff('day', CAST(totals.last_invoice_at AS DATE), reference.last_day) + 1 AS INTEGER)
        AS recency_days,
      totals.frequency,
      totals.monetary
    FROM (
      SELECT
        customer_id,
        CAST(MIN(CASE WHEN NOT is_cancellation THEN invoice_date END) AS TIMESTAMP) AS first_invoice_at,
        CAST(MAX(CASE WHEN NOT is_cancellation THEN invoice_date END) AS TIMESTAMP) AS last_invoice_at,
        COUNT(DISTINCT CASE WHEN NOT is_cancellation THEN invoice_no END) AS frequency,
        CAST(SUM(line_total) AS DECIMAL(18,3)) AS monetary
      FROM invoice_lines
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
        FROM invoice_lines
        WHERE NOT is_adjustment AND NOT is_cancellation AND customer_id IS NOT NULL
      ) purchases
      WHERE purchases.recent = 1
    ) latest ON latest.customer_id = totals.customer_id
    CROSS JOIN (
      SELECT CAST(MAX(invoice_date) AS DATE) AS last_day FROM invoice_lines
    ) reference
  ) measured
) scored
