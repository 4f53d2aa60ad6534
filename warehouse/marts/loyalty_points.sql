-- marts.loyalty_points: the loyalty points of each purchase invoice of a known customer.
-- docs/loyalty.md states the rule; src/core/loyalty.ts holds its constants (a test checks this file
-- against them).
--
-- Who: every (customer_id, invoice_no) of a purchase invoice: a non-cancellation invoice of a known
-- customer with at least one product line (adjustments, guests and C-invoices earn nothing).
-- invoice_date: the invoice's earliest product line (an invoice's lines share one time in practice).
-- earned_at: invoice_date + 11 days, the end of the return period.
-- revenue: SUM(line_total) of the invoice's product lines.
-- cancelled_value: the cancellations allocated to the invoice, as a positive number. A cancellation line
--   (a product line of a C-invoice of the same customer and stock code) counts when it is dated within
--   [invoice_date, earned_at], both ends included. When several purchase invoices of that customer and
--   stock code qualify, the line goes to the most recent one (latest invoice_date, then greatest
--   invoice_no), whole: a return usually follows the last delivery, and a single owner keeps the rule
--   deterministic and re-computable line by line. A cancellation no purchase qualifies for (it reverses
--   a sale older than 11 days, or one before the data) changes no points.
-- net_revenue: revenue - cancelled_value (it can be negative when a return exceeds the invoice).
-- points: FLOOR(net_revenue * 1), one point per whole 1.00 of net revenue, never negative.
-- is_earned: earned_at <= the reference time, the latest invoice_date in the data (any line). As in
--   customer_rfm, "now" is read from the data, not the clock: the mart is a function of the data alone
--   (refresh twice, same rows), a historical data set gets the balance it had at its end, and on a live
--   feed the latest invoice is minutes old. Invoices of the last 11 days are pending (is_earned false),
--   and their points can still go down.
--
-- A full rebuild, as every mart: a late cancellation restates the invoice it belongs to at the next
-- refresh, and points counted once per invoice row cannot be awarded twice (docs/loyalty.md, "Refresh").
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.loyalty_points (
  customer_id INTEGER NOT NULL,
  invoice_no VARCHAR(32) NOT NULL,
  invoice_date TIMESTAMP NOT NULL,
  earned_at TIMESTAMP NOT NULL,
  revenue DECIMAL(18,3) NOT NULL,
  cancelled_value DECIMAL(18,3) NOT NULL,
  net_revenue DECIMAL(18,3) NOT NULL,
  points BIGINT NOT NULL,
  is_earned BOOLEAN NOT NULL
);

DELETE FROM marts.loyalty_points;

INSERT INTO marts.loyalty_points (
  customer_id, invoice_no, invoice_date, earned_at, revenue, cancelled_value, net_revenue, points, is_earned
)
SELECT
  netted.customer_id,
  netted.invoice_no,
  netted.invoice_date,
  netted.earned_at,
  netted.revenue,
  netted.cancelled_value,
  netted.net_revenue,
  CASE WHEN netted.net_revenue > 0 THEN CAST(FLOOR(netted.net_revenue * 1) AS BIGINT) ELSE 0 END AS points,
  netted.earned_at <= reference.as_of AS is_earned
FROM (
  SELECT
    purchases.customer_id,
    purchases.invoice_no,
    purchases.invoice_date,
    purchases.invoice_date + INTERVAL '11 days' AS earned_at,
    purchases.revenue,
    COALESCE(-allocated.cancelled, 0) AS cancelled_value,
    purchases.revenue + COALESCE(allocated.cancelled, 0) AS net_revenue
  FROM (
    SELECT customer_id, invoice_no, MIN(invoice_date) AS invoice_date, SUM(line_total) AS revenue
    FROM staging.invoice_lines
    WHERE NOT is_adjustment AND NOT is_cancellation AND customer_id IS NOT NULL
    GROUP BY customer_id, invoice_no
  ) purchases
  LEFT JOIN (
    -- Each cancellation line once, on the purchase invoice it is allocated to.
    SELECT picked.customer_id, picked.invoice_no, SUM(picked.line_total) AS cancelled
    FROM (
      SELECT
        c.customer_id,
        c.line_total,
        bought.invoice_no,
        ROW_NUMBER() OVER (
          PARTITION BY c.line_id ORDER BY bought.invoice_date DESC, bought.invoice_no DESC
        ) AS pick
      FROM staging.invoice_lines c
      JOIN (
        -- The stock codes of each purchase invoice, with the invoice's date.
        SELECT DISTINCT l.customer_id, l.invoice_no, l.stock_code, invoices.invoice_date
        FROM staging.invoice_lines l
        JOIN (
          SELECT customer_id, invoice_no, MIN(invoice_date) AS invoice_date
          FROM staging.invoice_lines
          WHERE NOT is_adjustment AND NOT is_cancellation AND customer_id IS NOT NULL
          GROUP BY customer_id, invoice_no
        ) invoices ON invoices.customer_id = l.customer_id AND invoices.invoice_no = l.invoice_no
        WHERE NOT l.is_adjustment AND NOT l.is_cancellation
      ) bought
        ON bought.customer_id = c.customer_id
        AND bought.stock_code = c.stock_code
        AND c.invoice_date >= bought.invoice_date
        AND c.invoice_date <= bought.invoice_date + INTERVAL '11 days'
      WHERE c.is_cancellation AND NOT c.is_adjustment AND c.customer_id IS NOT NULL
    ) picked
    WHERE picked.pick = 1
    GROUP BY picked.customer_id, picked.invoice_no
  ) allocated ON allocated.customer_id = purchases.customer_id AND allocated.invoice_no = purchases.invoice_no
) netted
CROSS JOIN (
  SELECT MAX(invoice_date) AS as_of FROM staging.invoice_lines
) reference;
