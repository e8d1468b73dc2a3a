-- grain: one row per figure a workbook states: 报告数值 rows and 合计/总分 rows
select
    year, dept_code, figure as figure_key, label as figure, reported_text, reported_value, tolerance,
    src_file, src_sheet, src_cell, run_id
from raw.reported
union all
select
    year, dept_code, figure as figure_key,
    case figure
        when 'project_budget_total' then '表2-3 合计：预算金额'
        when 'project_spent_total' then '表2-3 合计：支出金额'
        when 'project_spend_rate_total' then '表2-3 合计：预算完成率'
        when 'score_weight_total' then '表2-1 总分：分值'
        when 'score_total' then '表2-1 总分：自评分'
    end as figure,
    reported_text, reported_value, tolerance, src_file, src_sheet, src_cell, run_id
from raw.stated
