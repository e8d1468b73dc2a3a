-- The projects of the departments drawn together ($year, $depts).
select * from mart.project_spending where year = $year and list_contains($depts, dept_code) order by dept_code, project_no
