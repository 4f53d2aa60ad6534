-- The raw rows (a line, its version and kind) that no refresh has applied to staging yet: arrived since the
-- last refresh. Nonzero means the marts are behind raw, not that a store lost anything.
SELECT COUNT(*) AS unrefreshed
FROM (
  SELECT DISTINCT r.line_id, COALESCE(r.change_version, 0) AS change_version, COALESCE(r.change_kind, 'add') AS change_kind
  FROM "raw".invoice_lines r
) r
WHERE NOT EXISTS (
  SELECT 1 FROM staging.stored_rows s
  WHERE s.line_id = r.line_id AND s.change_version = r.change_version AND s.change_kind = r.change_kind
)
