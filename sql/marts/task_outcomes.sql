-- grain: one row per key task of a department's year and how it went (表1-1)
select
    year,
    dept_code,
    task_no,
    task,
    outcome,
    run_id,
    src_file,
    src_sheet,
    src_row
from staging.stg_tasks
