-- The indicators of these forms with their scores. Parameters: $year, $keys.
select *
from mart.project_indicator_score
where year = $year and list_contains($keys, project_key)
order by project_key, indicator_no
