-- The printed figures of these project forms that differ from their recomputation, or are empty where it exists.
-- Parameters: $year, $keys (project_key list).
select *
from audit.project_reconciliation
where year = $year
  and list_contains($keys, project_key)
  and status in ('mismatch', 'missing')
order by file, sheet, cell, figure
