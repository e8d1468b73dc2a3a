-- Workbooks (or CSV folders) that the last finished run to read them rejected, from bytes
-- identical to today's, with the same code and rule set: read again, they would be rejected
-- again with the same findings, so the run reports that run's findings instead of reading them.
-- Rejections that hang on more than the file itself are read again: a 部门编码 used by another
-- workbook too (that one may have changed), or the program failing on the file.
-- Parameters: $year, $code_version, $ruleset; relation current_inputs(name, sha256).
-- One row per such input: file, run_id (the run whose findings stand), dept_code, dept_name
-- (from the department's last load, if any: a rejected workbook's own name was never stored).
with finished as (
    select run_id, started_at, code_version, json_extract_string(parameters, '$.ruleset') as ruleset
    from audit.runs
    where year = $year and status in ('completed', 'partial')
),

-- A run read an input if it left findings on it or its data is what raw.departments holds; a run
-- that reported an unchanged rejection counts as reading it, so the chain goes on night after night.
reads as (
    select
        file,
        run_id,
        bool_or(severity = 'error') as rejected,
        bool_or(rule in ('basic.dept_code_duplicate', 'workbook.internal_error')) as read_again,
        any_value(dept_code) as dept_code
    from audit.validation_issues
    where year = $year
    group by file, run_id
    union all
    select src_file, run_id, false, false, dept_code
    from raw.departments
    where year = $year
),

last_read as (
    select reads.*, finished.code_version, finished.ruleset
    from reads
    join finished using (run_id)
    qualify row_number() over (partition by reads.file order by finished.started_at desc, reads.rejected) = 1
)

select last_read.file, last_read.run_id, last_read.dept_code, departments.dept_name
from last_read
left join raw.departments as departments
    on departments.year = $year and departments.dept_code = last_read.dept_code
where last_read.rejected
  and not last_read.read_again
  and last_read.code_version = $code_version
  and last_read.ruleset is not distinct from $ruleset
  and (select list(name || ':' || sha256 order by name) from audit.run_inputs as inputs
       where inputs.run_id = last_read.run_id
         and (inputs.name = last_read.file or starts_with(inputs.name, last_read.file || '/')))
    = (select list(name || ':' || sha256 order by name) from current_inputs
       where current_inputs.name = last_read.file or starts_with(current_inputs.name, last_read.file || '/'))
order by last_read.file
