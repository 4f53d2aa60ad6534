-- Net product revenue, invoices and customers by country, all time, largest first.
-- customers is summed over months: a customer buying in two months counts twice.
SELECT
  country,
  SUM(revenue) AS revenue,
  SUM(invoices) AS invoices,
  SUM(customers) AS customer_months
FROM monthly_country_revenue
GROUP BY country
ORDER BY revenue DESC, country
