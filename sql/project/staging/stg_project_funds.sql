-- grain: one row per row of a form's funds block (年度资金总额, 当年财政拨款, 上年结转资金, 其他资金)
select
    year,
    project_key,
    src_row,
    source,
    label,
    initial_budget_yuan,
    budget_yuan,
    spent_yuan,
    weight,
    reported_rate,
    reported_score,
    budget_cell,
    spent_cell,
    rate_cell,
    score_cell,
    src_file,
    src_sheet,
    run_id
from raw.project_fund_rows
