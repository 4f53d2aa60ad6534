-- One customer's lines, oldest first, with cancellations and adjustments; the parameter is the CustomerID.
SELECT invoice_no, invoice_date, stock_code, description, quantity, unit_price, line_total, is_cancellation
FROM invoice_lines
WHERE customer_id = ?
ORDER BY invoice_date, invoice_no, stock_code, line_id
