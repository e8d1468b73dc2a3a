-- One row per workbook a run read ($run, $year): loaded or rejected, score, grade, execution rate, finding counts.
with issues as (
    select
        file,
        any_value(dept_code) as dept_code,
        count(*) filter (where severity = 'error') as errors,
        count(*) filter (where severity = 'warning') as warnings
    from audit.validation_issues
    where run_id = $run
    group by file
),

loaded as (
    select src_file as file, dept_code, dept_name, total_score, grade, execution_rate
    from mart.department_summary
    where run_id = $run and year = $year
)

select
    coalesce(loaded.file, issues.file) as file,
    coalesce(loaded.dept_code, issues.dept_code) as dept_code,
    loaded.dept_name,
    loaded.file is not null as is_loaded,
    loaded.total_score,
    loaded.grade,
    loaded.execution_rate,
    coalesce(issues.errors, 0) as errors,
    coalesce(issues.warnings, 0) as warnings
from loaded
full join issues on issues.file = loaded.file
order by is_loaded, dept_code, file
