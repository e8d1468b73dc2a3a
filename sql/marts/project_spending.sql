-- grain: one row per project under a key task (表2-3)
select
    year,
    dept_code,
    task_no,
    task,
    project_no,
    project,
    budget_yuan,
    spent_yuan,
    cast(spend_rate as decimal(38, 12)) as spend_rate,
    reported_rate,
    run_id,
    src_file,
    src_sheet,
    src_row
from intermediate.int_projects_rated
