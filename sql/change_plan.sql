-- The change plan: for each input file of a year (and each file a baseline run read that is gone),
-- how it stands against what the warehouse holds. It answers the three questions asked of a
-- year's inputs, in one place:
--   * the nightly: is the year due? (change against the last finished full run of the year);
--   * the ledger: is this run a repeat? (change against the last finished run with the same
--     parameters and code: every file 'same', and one such run exists);
--   * the year flow: which inputs to read? (`must_read`: false when the department's loaded data
--     came from these very bytes, by the same code, rule set (and rule file) and at least today's formats).
-- Files are matched by their path within the year folder (`name`); a CSV folder's files share
-- their department input's `src_file`, the folder's name.
--
-- Parameters: $year, $code_version, $ruleset, $rules_file (sha256 of a --rules-file, or NULL), $formats
-- (list), $year_rules (the rules of checks across a year's inputs, Family.year_rules), $parameters
-- (the run's, or NULL for the nightly's question); relation current_inputs(name, sha256).
-- Rows: name, src_file, change ('new', 'changed', 'same', 'removed'), dept_code, must_read,
-- no_baseline (there is no baseline run), stands_rejected (not read: its last read rejected it, and
-- would again).
with baseline as (
    select run_id
    from audit.runs
    where year = $year
      and status in ('completed', 'partial')
      and (
          ($parameters is null and coalesce(json_array_length(parameters, '$.departments'), 0) = 0)
          or (parameters = $parameters and code_version = $code_version)
      )
    order by started_at desc
    limit 1
),

before as (
    select coalesce(inputs.name, regexp_extract(inputs.path, '[^/]+$')) as name, inputs.sha256
    from audit.run_inputs as inputs
    semi join baseline using (run_id)
),

now as (
    select name, split_part(name, '/', 1) as src_file, sha256 from current_inputs
),

-- Inputs whose data stands from a finished run. A department whose last read workbook was rejected
-- (stale) does not: its workbook, back to the bytes that were loaded, is read to be current again.
-- A workbook of project forms stands when the run that loaded its forms rejected none of its forms
-- (a rejected form has no rows to stand on; the workbook is read again to report it).
loaded as (
    select departments.src_file, departments.dept_code, departments.run_id
    from raw.departments as departments
    join audit.runs as runs using (run_id)
    left join audit.department_status as status
        on status.year = departments.year and status.dept_code = departments.dept_code
    where departments.year = $year and runs.status in ('completed', 'partial')
      and not coalesce(status.is_stale, false)
    union all
    select distinct forms.src_file, null, forms.run_id
    from raw.project_forms as forms
    join audit.runs as runs using (run_id)
    where forms.year = $year and runs.status in ('completed', 'partial')
      and not exists (
          select 1 from audit.validation_issues as issues
          where issues.run_id = forms.run_id and issues.file = forms.src_file and issues.severity = 'error'
      )
),

-- Each finished run's read of each input: its files by name and sha256, in order, and whether the run
-- had today's code, rule set (and rule file) and at least today's formats.
reads as (
    select
        split_part(inputs.name, '/', 1) as src_file, inputs.run_id,
        any_value(runs.started_at) as started_at,
        list(inputs.name || ':' || inputs.sha256 order by inputs.name) as files,
        -- coalesce: a run without recorded formats is not today's
        coalesce(any_value(
            runs.code_version = $code_version
            and json_extract_string(runs.parameters, '$.ruleset') is not distinct from $ruleset
            and json_extract_string(runs.parameters, '$.rules_file') is not distinct from $rules_file
            and list_has_all(from_json(json_extract(runs.parameters, '$.formats'), '["VARCHAR"]'), $formats)
        ), false) as as_today
    from audit.run_inputs as inputs
    join audit.runs as runs using (run_id)
    where runs.year = $year and runs.status in ('completed', 'partial') and coalesce(inputs.was_read, true)
    group by split_part(inputs.name, '/', 1), inputs.run_id
),

loaded_files as (
    select distinct loaded.src_file, loaded.run_id, reads.files, reads.as_today
    from loaded
    join reads using (src_file, run_id)
),

today_files as (
    select src_file, list(name || ':' || sha256 order by name) as files from now group by src_file
),

-- Inputs whose last read rejected them (every form of a workbook, or some). Read again, the same bytes
-- by the same code and rules would give the same findings, which the year's pages show from that
-- read (sql/queries/year_inputs.sql); it stands. Not so a rejection by a check across the year's
-- inputs (two workbooks giving one 部门编码, one project filed twice): it depends on the other inputs,
-- and the input is read again.
last_reads as (
    select * from reads qualify row_number() over (partition by src_file order by started_at desc) = 1
),

rejected as (
    select last_reads.src_file, any_value(issues.dept_code) as dept_code
    from last_reads
    join audit.validation_issues as issues
        on issues.run_id = last_reads.run_id and issues.file = last_reads.src_file and issues.severity = 'error'
    join today_files using (src_file)
    where last_reads.as_today and last_reads.files = today_files.files
    group by last_reads.src_file
    having not bool_or(list_contains($year_rules, issues.rule))
),

-- One row per input: a workbook whose forms were loaded by several runs stands when all of them hold.
loaded_standing as (
    select loaded.src_file, any_value(loaded.dept_code) as dept_code
    from loaded
    left join loaded_files using (src_file, run_id)
    left join today_files using (src_file)
    group by loaded.src_file
    -- coalesce: bool_and skips NULLs, where a load with no read on record must not stand
    having bool_and(coalesce(
        loaded_files.as_today
        and loaded_files.files is not distinct from today_files.files
        and today_files.files is not null, false
    ))
),

-- What stands: loaded data, or a rejection.
standing as (
    select src_file, any_value(dept_code) as dept_code, bool_or(was_rejected) as was_rejected
    from (
        select src_file, dept_code, false as was_rejected from loaded_standing
        union all
        select src_file, dept_code, true from rejected
    )
    group by src_file
)

select
    coalesce(now.name, before.name) as name,
    coalesce(now.src_file, split_part(before.name, '/', 1)) as src_file,
    case
        when now.name is null then 'removed'
        when before.name is null then 'new'
        when now.sha256 <> before.sha256 then 'changed'
        else 'same'
    end as change,
    standing.dept_code,
    now.name is not null and standing.src_file is null as must_read,
    (select count(*) from baseline) = 0 as no_baseline,
    coalesce(standing.was_rejected, false) as stands_rejected
from now
full join before using (name)
left join standing on standing.src_file = now.src_file
order by name
