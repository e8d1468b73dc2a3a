-- The findings of the departments drawn together ($year, $depts, $run: the run's own findings).
select * from audit.validation_issues where run_id = $run and year = $year and list_contains($depts, dept_code) order by dept_code, severity, file, sheet, rule
