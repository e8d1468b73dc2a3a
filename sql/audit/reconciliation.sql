-- grain: one row per figure a workbook states, checked against the figure computed from its rows
with figures as (
    select * from intermediate.int_department_figures
),

computed as (
    unpivot (
        select
            year,
            dept_code,
            cast(execution_rate as decimal(38, 12)) as execution_rate,
            cast(total_score as decimal(38, 12)) as total_score,
            cast(project_budget_yuan as decimal(38, 12)) as project_budget_yuan,
            cast(project_spent_yuan as decimal(38, 12)) as project_spent_yuan,
            cast(indicators_total as decimal(38, 12)) as indicators_total,
            cast(indicators_ge_100 as decimal(38, 12)) as indicators_ge_100,
            cast(indicators_90_100 as decimal(38, 12)) as indicators_90_100,
            cast(indicators_lt_90 as decimal(38, 12)) as indicators_lt_90,
            cast(output_indicators as decimal(38, 12)) as output_indicators,
            cast(effect_indicators as decimal(38, 12)) as effect_indicators,
            cast(project_budget_yuan as decimal(38, 12)) as project_budget_total,
            cast(project_spent_yuan as decimal(38, 12)) as project_spent_total,
            cast(project_spend_rate as decimal(38, 12)) as project_spend_rate_total,
            cast(weight_total as decimal(38, 12)) as score_weight_total,
            cast(total_score as decimal(38, 12)) as score_total
        from figures
    )
    on columns(* exclude (year, dept_code))
    into name figure_key value computed_value
),

kinds as (
    select * from (values
        ('execution_rate', 'rate'), ('total_score', 'score'),
        ('project_budget_yuan', 'amount'), ('project_spent_yuan', 'amount'),
        ('indicators_total', 'count'), ('indicators_ge_100', 'count'), ('indicators_90_100', 'count'),
        ('indicators_lt_90', 'count'), ('output_indicators', 'count'), ('effect_indicators', 'count'),
        ('project_budget_total', 'amount'), ('project_spent_total', 'amount'),
        ('project_spend_rate_total', 'rate'), ('score_weight_total', 'score'), ('score_total', 'score')
    ) as t(figure_key, kind)
),

stated_figures as (
    select
        stated.year,
        stated.dept_code,
        coalesce(stated.figure, stated.figure_key) as figure,
        stated.figure_key,
        kinds.kind,
        stated.reported_text,
        cast(stated.reported_value as decimal(38, 12)) as reported_value,
        computed.computed_value,
        cast(stated.tolerance as decimal(38, 12)) as tolerance,
        stated.src_file,
        stated.src_sheet,
        stated.src_cell,
        stated.run_id
    from staging.stg_reported_figures as stated
    left join computed using (year, dept_code, figure_key)
    left join kinds using (figure_key)
),

indicator_rates as (
    select
        year, dept_code,
        '完成率：' || indicator as figure,
        'indicator_rate' as figure_key,
        'rate' as kind,
        null as reported_text,
        cast(reported_rate as decimal(38, 12)) as reported_value,
        cast(completion_rate as decimal(38, 12)) as computed_value,
        cast(0.00005 as decimal(38, 12)) as tolerance,
        src_file, src_sheet, reported_rate_cell as src_cell, run_id
    from intermediate.int_indicators_rated
    where reported_rate is not null and completion_rate is not null
),

project_rates as (
    select
        year, dept_code,
        '预算完成率：' || project as figure,
        'project_rate' as figure_key,
        'rate' as kind,
        null as reported_text,
        cast(reported_rate as decimal(38, 12)) as reported_value,
        cast(spend_rate as decimal(38, 12)) as computed_value,
        cast(0.00005 as decimal(38, 12)) as tolerance,
        src_file, src_sheet, reported_rate_cell as src_cell, run_id
    from intermediate.int_projects_rated
    where reported_rate is not null and spend_rate is not null
),

item_scores as (
    select
        year, dept_code,
        '自评分：' || item as figure,
        'item_score' as figure_key,
        'score' as kind,
        null as reported_text,
        cast(reported_score as decimal(38, 12)) as reported_value,
        cast(score as decimal(38, 12)) as computed_value,
        cast(0.005 as decimal(38, 12)) as tolerance,
        src_file, src_sheet, reported_score_cell as src_cell, run_id
    from intermediate.int_scores_computed
    where method = 'computed' and reported_score is not null
),

budget_indicator as (
    -- one fact, two figures: the budget-use indicator's actual value against the department's own totals
    select
        indicators.year, indicators.dept_code,
        indicators.indicator || '（实际完成值）与部门预算执行率' as figure,
        'budget_indicator' as figure_key,
        'rate' as kind,
        indicators.actual_text as reported_text,
        cast(indicators.actual_value * 0.01 as decimal(38, 12)) as reported_value,
        cast(departments.execution_rate as decimal(38, 12)) as computed_value,
        cast(0.00005 as decimal(38, 12)) as tolerance,
        indicators.src_file, indicators.src_sheet, indicators.actual_cell as src_cell, indicators.run_id
    from intermediate.int_indicators_rated as indicators
    join intermediate.int_departments_rated as departments using (year, dept_code)
    join config.score_rules as rules
        on rules.ruleset = departments.ruleset
        and rules.method = 'budget_rate'
        and rules.source_indicator = indicators.indicator
    where indicators.actual_unit = '%'
),

checks as (
    select * from stated_figures
    union all by name select * from indicator_rates
    union all by name select * from project_rates
    union all by name select * from item_scores
    union all by name select * from budget_indicator
),

final as (
    select
        year,
        dept_code,
        figure,
        figure_key,
        kind,
        reported_text,
        reported_value,
        computed_value,
        computed_value - reported_value as difference,
        tolerance,
        -- half-up semantics: the reported figure is the computed one rounded to its own precision
        case
            when reported_value is null or computed_value is null then 'not_reconciled'
            when rounds_to(computed_value, reported_value, tolerance) then 'match'
            else 'mismatch'
        end as status,
        src_file as file,
        src_sheet as sheet,
        src_cell as cell,
        run_id
    from checks
)

select * from final
