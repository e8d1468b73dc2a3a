-- The summary of the departments drawn together ($year, $depts).
select * from mart.department_summary where year = $year and list_contains($depts, dept_code)
