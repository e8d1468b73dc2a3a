-- The tasks of the departments drawn together ($year, $depts).
select * from mart.task_spending where year = $year and list_contains($depts, dept_code) order by dept_code, task_no
