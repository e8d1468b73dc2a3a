-- grain: one row per level-3 score item (表2-1)
select
    year,
    dept_code,
    item_no,
    level1,
    level1_weight,
    level2,
    level2_weight,
    item,
    weight,
    score,
    method,
    reported_score,
    ruleset,
    rule_method,
    budget_rate_source,
    run_id,
    src_file,
    src_sheet,
    src_row
from intermediate.int_scores_computed
