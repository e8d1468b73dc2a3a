-- run_departments.sql for a warehouse whose marts do not exist yet: no run has loaded a department,
-- so every workbook this run read was rejected ($run; $year unused, kept for the same parameters).
select
    file,
    any_value(dept_code) as dept_code,
    null::varchar as dept_name,
    false as is_loaded,
    null::decimal(38, 12) as total_score,
    null::varchar as grade,
    null::decimal(38, 12) as execution_rate,
    count(*) filter (where severity = 'error') as errors,
    count(*) filter (where severity = 'warning') as warnings
from audit.validation_issues
where run_id = $run and year = $year
group by file
order by dept_code, file
