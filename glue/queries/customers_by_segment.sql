-- How many customers are in each RFM segment, and what they are worth.
SELECT segment, COUNT(*) AS customers, SUM(monetary) AS monetary
FROM customer_rfm
GROUP BY segment
ORDER BY monetary DESC, segment
