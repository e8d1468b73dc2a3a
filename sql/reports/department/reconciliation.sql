-- The reconciliation of the departments drawn together ($year, $depts).
select * from audit.reconciliation where year = $year and list_contains($depts, dept_code) order by dept_code, status <> 'mismatch', file, sheet, figure
