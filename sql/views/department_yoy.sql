-- grain: one row per department and year, against the same department's previous year.
-- A view over mart.department_summary, so a rerun of either year is reflected at once. Logic across
-- years or departments lives here: a load evaluates the materialized models over its own
-- department-years only (jixiao/load/warehouse.py).
select
    this.year,
    this.dept_code,
    this.dept_name,
    last.year as previous_year,
    this.execution_rate,
    last.execution_rate as previous_execution_rate,
    this.execution_rate - last.execution_rate as execution_rate_change,
    this.total_score,
    last.total_score as previous_total_score,
    this.total_score - last.total_score as total_score_change,
    this.grade,
    last.grade as previous_grade,
    this.indicators_total,
    last.indicators_total as previous_indicators_total,
    this.indicators_ge_100,
    last.indicators_ge_100 as previous_indicators_ge_100,
    this.indicators_90_100,
    last.indicators_90_100 as previous_indicators_90_100,
    this.indicators_lt_90,
    last.indicators_lt_90 as previous_indicators_lt_90,
    this.project_spend_rate,
    last.project_spend_rate as previous_project_spend_rate
from mart.department_summary as this
left join mart.department_summary as last
    on last.dept_code = this.dept_code
    and last.year = this.year - 1
