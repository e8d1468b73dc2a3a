-- grain: one row per level-3 score item, scored by its department's rule set
with items as (
    select * from staging.stg_score_items
),

departments as (
    select year, dept_code, ruleset, execution_rate from intermediate.int_departments_rated
),

indicators as (
    select * from intermediate.int_indicators_rated
),

matched as (
    select
        items.*,
        departments.ruleset,
        departments.execution_rate,
        rules.method as rule_method,
        rules.level1s,
        rules.source_indicator
    from items
    join departments using (year, dept_code)
    left join config.score_rules as rules
        on rules.ruleset = departments.ruleset
        and items.item <> ''
        and contains(items.item, rules.item_match)
    qualify row_number() over (
        partition by items.year, items.dept_code, items.item_no order by rules.rule_no
    ) = 1
),

indicator_shares as (
    select
        matched.year,
        matched.dept_code,
        matched.item_no,
        count(*) filter (where not indicators.is_not_applicable) as applicable,
        count(*) filter (where indicators.is_met) as met,
        sum(
            coalesce(indicators.weight, 1)
            * least(coalesce(indicators.completion_rate, case when indicators.is_met then 1 else 0 end), 1)
        ) filter (where not indicators.is_not_applicable) as weighted_rate,
        sum(coalesce(indicators.weight, 1)) filter (where not indicators.is_not_applicable) as weight_total
    from matched
    join indicators
        on indicators.year = matched.year
        and indicators.dept_code = matched.dept_code
        and list_contains(matched.level1s, indicators.level1)
    where matched.rule_method in ('share_at_100', 'proportional')
    group by all
),

budget_rates as (
    -- the rule's source indicator (预算经费使用率) when the workbook has it, else the department's own rate
    select
        matched.year,
        matched.dept_code,
        matched.item_no,
        coalesce(
            max(indicators.actual_value * 0.01) filter (where indicators.actual_unit = '%'),
            any_value(matched.execution_rate)
        ) as rate,
        max(indicators.indicator) filter (where indicators.actual_unit = '%') as rate_source
    from matched
    left join indicators
        on indicators.year = matched.year
        and indicators.dept_code = matched.dept_code
        and indicators.indicator = matched.source_indicator
    where matched.rule_method = 'budget_rate'
    group by all
),

scored as (
    select
        matched.*,
        case matched.rule_method
            when 'share_at_100' then exact_ratio(matched.weight * shares.met, shares.applicable)
            when 'proportional' then exact_ratio(matched.weight * shares.weighted_rate, shares.weight_total)
            when 'budget_rate' then matched.weight * least(budget_rates.rate, 1)
        end as computed_score,
        coalesce(budget_rates.rate_source, case when matched.rule_method = 'budget_rate' then '部门预算执行率' end)
            as budget_rate_source
    from matched
    left join indicator_shares as shares using (year, dept_code, item_no)
    left join budget_rates using (year, dept_code, item_no)
),

final as (
    select
        *,
        -- a rule with nothing to count (no indicators of that level) falls back to the entered score
        case when computed_score is null then 'entered' else 'computed' end as method,
        -- A score is awarded in points to two decimals, half up, item by item (DuckDB rounds a DECIMAL
        -- half away from zero, and scores are never negative); a total is the sum of its awarded items.
        cast(round(cast(coalesce(computed_score, reported_score, 0) as decimal(38, 12)), 2) as decimal(38, 12)) as score
    from scored
)

select * from final
