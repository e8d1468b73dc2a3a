-- The year's inputs as they stand once run $run_id has read its own: every input of the year folder
-- today, with the run that last read it (this run, or the last finished run that did: a nightly leaves
-- unchanged inputs standing, a --dept run reads one department), what that read left unread, its
-- 部门编码 and whether it holds project forms. The year's validation page and CSV are drawn from these
-- and their findings (year_findings.sql), so that they cover every input of the year, whichever ran last.
-- Parameters: $year, $run_id. Rows: src_file, run_id, ignored_sheets, dept_code, dept_name (as last read), forms.
with today as (
    select split_part(name, '/', 1) as src_file from audit.run_inputs where run_id = $run_id group by 1
),

reads as (
    select split_part(inputs.name, '/', 1) as src_file, inputs.run_id, runs.started_at, inputs.ignored_sheets,
           inputs.dept_name
    from audit.run_inputs as inputs
    join audit.runs as runs using (run_id)
    where runs.year = $year
      and (runs.run_id = $run_id or runs.status in ('completed', 'partial'))
      and coalesce(inputs.was_read, true)
),

last_read as (
    select src_file, arg_max(run_id, started_at) as run_id, arg_max(ignored_sheets, started_at) as ignored_sheets,
           arg_max(dept_name, started_at) as dept_name
    from reads
    semi join today using (src_file)
    group by src_file
),

found as (
    select issues.file as src_file, any_value(issues.dept_code) as dept_code,
           bool_or(issues.project_key is not null) as forms
    from audit.validation_issues as issues
    semi join last_read on issues.run_id = last_read.run_id and issues.file = last_read.src_file
    group by issues.file
),

loaded as (
    select src_file, any_value(dept_code) as dept_code, false as forms
    from raw.departments where year = $year group by src_file
    union all
    select distinct src_file, null, true from raw.project_forms where year = $year
)

select
    today.src_file,
    last_read.run_id,
    coalesce(last_read.ignored_sheets, []) as ignored_sheets,
    coalesce(loaded.dept_code, found.dept_code) as dept_code,
    last_read.dept_name,
    coalesce(loaded.forms, found.forms, false) as forms
from today
left join last_read using (src_file)
left join found using (src_file)
left join loaded using (src_file)
order by today.src_file
