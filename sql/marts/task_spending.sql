-- grain: one row per key task, its projects summed (表2-3 by task)
select
    year,
    dept_code,
    task_no,
    any_value(task) as task,
    count(*) as projects,
    sum(budget_yuan) as budget_yuan,
    sum(spent_yuan) as spent_yuan,
    cast(exact_ratio(sum(spent_yuan), sum(budget_yuan)) as decimal(38, 12)) as spend_rate,
    any_value(run_id) as run_id,
    any_value(src_file) as src_file
from staging.stg_projects
group by year, dept_code, task_no
