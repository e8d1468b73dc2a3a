-- grain: one row per key task of 表1-1
select year, dept_code, task_no, task, outcome, src_file, src_sheet, src_row, run_id
from raw.tasks
