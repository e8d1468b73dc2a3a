-- Workbooks (or CSV folders) whose department is in the warehouse from bytes identical to
-- today's, loaded by the same code with the same rule set and at least today's formats:
-- reading, loading and drawing them again would reproduce what is there. Only a run that
-- finished counts: one that failed after its load may not have drawn the reports. Each with
-- its department's code, so that a workbook read today under the same code can be caught.
-- A department whose last read workbook was rejected (stale) does not count: its workbook,
-- now back to the bytes that were loaded, is read again so that it is current once more.
-- Parameters: $year, $code_version, $ruleset, $formats; relation current_inputs(name, sha256).
with loaded as (
    select departments.src_file, departments.dept_code, departments.run_id, runs.parameters, runs.code_version
    from raw.departments as departments
    join audit.runs as runs using (run_id)
    left join audit.department_status as status
        on status.year = departments.year and status.dept_code = departments.dept_code
    where departments.year = $year and runs.status in ('completed', 'partial')
      and not coalesce(status.is_stale, false)
),

department_inputs as (
    select loaded.src_file, inputs.name, inputs.sha256
    from loaded
    join audit.run_inputs as inputs
        on inputs.run_id = loaded.run_id
        and (inputs.name = loaded.src_file or starts_with(inputs.name, loaded.src_file || '/'))
),

today as (
    select loaded.src_file, current_inputs.name, current_inputs.sha256
    from loaded
    join current_inputs
        on current_inputs.name = loaded.src_file or starts_with(current_inputs.name, loaded.src_file || '/')
)

select loaded.src_file, loaded.dept_code
from loaded
where loaded.code_version = $code_version
  and json_extract_string(loaded.parameters, '$.ruleset') is not distinct from $ruleset
  and list_has_all(from_json(json_extract(loaded.parameters, '$.formats'), '["VARCHAR"]'), $formats)
  and (select list(name || ':' || sha256 order by name) from department_inputs d where d.src_file = loaded.src_file)
    = (select list(name || ':' || sha256 order by name) from today t where t.src_file = loaded.src_file)
