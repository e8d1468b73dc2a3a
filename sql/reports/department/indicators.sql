-- The indicators of the departments drawn together ($year, $depts).
select * from mart.indicator_completion where year = $year and list_contains($depts, dept_code) order by dept_code, indicator_no
