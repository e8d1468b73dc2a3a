-- The funds rows of these forms, as printed and recomputed. Parameters: $year, $keys.
select *
from mart.project_funds
where year = $year and list_contains($keys, project_key)
order by project_key, src_row
