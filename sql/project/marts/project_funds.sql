-- grain: one row per fund row of a project form (年度资金总额, 当年财政拨款, 上年结转资金, 其他资金)
select
    funds.year,
    funds.project_key,
    forms.unit_name,
    forms.project,
    forms.project_code,
    funds.source,
    funds.label,
    funds.initial_budget_yuan,
    funds.budget_yuan,
    funds.spent_yuan,
    exact_ratio(funds.spent_yuan, funds.budget_yuan) as execution_rate,
    funds.reported_rate,
    funds.weight,
    funds.reported_score,
    funds.src_file,
    funds.src_sheet,
    funds.src_row,
    funds.run_id
from staging.stg_project_funds as funds
join staging.stg_project_forms as forms using (year, project_key)
