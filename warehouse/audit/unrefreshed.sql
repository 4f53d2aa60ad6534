-- Lines the warehouse's raw table holds and staging does not yet: delivered, waiting for the next refresh.
SELECT COUNT(DISTINCT r.line_id) AS unrefreshed
FROM "raw".invoice_lines r
LEFT JOIN staging.invoice_lines s ON s.line_id = r.line_id
WHERE s.line_id IS NULL
