-- Quarantined rows by day of quarantine, source (api, stream, batch) and reason: what was refused, where.
SELECT quarantine_date, source, reason, COUNT(*) AS quarantined
FROM quarantine
GROUP BY quarantine_date, source, reason
ORDER BY quarantine_date, source, reason
