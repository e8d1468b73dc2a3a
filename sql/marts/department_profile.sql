-- grain: one row per department and year: what 基本情况 states beyond the summary's figures,
-- for the report's sentences (财政拨款收入, 预算经费使用率目标, 下属单位数)
select
    year,
    dept_code,
    dept_name,
    dept_short_name,
    budget_yuan,
    revenue_yuan,
    spent_yuan,
    spend_target_rate,
    subunits,
    run_id,
    src_file
from staging.stg_departments
