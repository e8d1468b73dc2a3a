-- grain: one row per project of 表2-3
select
    year, dept_code, task_no, task, project_no, project,
    budget_yuan, spent_yuan, reported_rate, reported_rate_cell,
    src_file, src_sheet, src_row, run_id
from raw.projects
