-- grain: one row per department and year, as stated in 基本情况
select
    year,
    dept_code,
    dept_name,
    coalesce(dept_short_name, dept_name) as dept_short_name,
    budget_yuan,
    revenue_yuan,
    spent_yuan,
    spend_target_rate,
    subunits,
    ruleset,
    src_file,
    run_id
from raw.departments
