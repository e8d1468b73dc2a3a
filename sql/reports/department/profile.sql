-- The profile of the departments drawn together ($year, $depts).
select * from mart.department_profile where year = $year and list_contains($depts, dept_code)
