-- grain: one row per form: its 年度资金总额 row (the budget item), with the execution rate (执行率)
select
    forms.year,
    forms.project_key,
    forms.ruleset,
    funds.budget_yuan,
    funds.spent_yuan,
    exact_ratio(funds.spent_yuan, funds.budget_yuan) as execution_rate,
    funds.weight as printed_weight,
    funds.reported_rate,
    funds.reported_score,
    funds.rate_cell,
    funds.score_cell,
    funds.src_file,
    funds.src_sheet,
    funds.run_id
from staging.stg_project_forms as forms
left join staging.stg_project_funds as funds
    on funds.year = forms.year and funds.project_key = forms.project_key and funds.source = '年度资金总额'
