-- grain: one row per scored item of a form: each indicator, and the budget item (预算执行率, from the
-- 年度资金总额 row), scored by the form's rule set (config.score_rules; jixiao/check/rulesets.toml).
-- An item takes the first rule of its rule set that applies to it; an item no rule takes keeps its
-- entered score (method 'entered'). `computed_score` is exact; `score` is awarded: two decimals, half up.
with indicators as (
    select * from intermediate.int_project_indicators_rated
),

forms as (
    select year, project_key, ruleset from staging.stg_project_forms
),

budget as (
    select * from intermediate.int_project_budget
),

indicator_rules as (
    select * from config.score_rules where applies = 'indicator'
),

matched as (
    select
        indicators.*,
        forms.ruleset,
        rules.rule_no,
        rules.method as rule_method,
        rules.upper_band,
        rules.step,
        rules.points,
        rules.threshold,
        rules.per_point,
        rules.penalise,
        rules.tier_bounds,
        rules.tier_points,
        rules.tier_side,
        rules.tier_otherwise,
        -- the figure a threshold, band or tier reads: the actual value as printed (102 for 102 %), or the rate in %
        case when rules.value_of = 'rate' then indicators.completion_rate * 100 else indicators.actual_value end
            as rule_value
    from indicators
    join forms using (year, project_key)
    left join indicator_rules as rules
        on rules.ruleset = forms.ruleset
        and (coalesce(rules.item_match, '') = '' or contains(indicators.indicator, rules.item_match))
        and (len(rules.level1s) = 0 or list_contains(rules.level1s, indicators.level1))
        and (len(rules.level2s) = 0 or list_contains(rules.level2s, indicators.level2))
    qualify row_number() over (
        partition by indicators.year, indicators.project_key, indicators.indicator_no order by rules.rule_no nulls last
    ) = 1
),

counted as (
    select
        *,
        -- share_met: met, and (with an upper band) not more than that far over its target
        coalesce(is_met, false)
        and (upper_band is null or completion_rate is null or round(completion_rate, 4) <= 1 + upper_band) as counts_as_met
    from matched
),

shares as (
    select
        year, project_key, rule_no,
        count(*) filter (where not is_not_applicable) as indicators_counted,
        sum(weight) filter (where not is_not_applicable) as points_counted
    from counted
    where rule_method = 'share_met'
    group by all
),

indicator_scores as (
    select
        counted.*,
        case
            when is_not_applicable then null
            when rule_method = 'share_met'
                then case when counts_as_met then exact_ratio(shares.points_counted, shares.indicators_counted) else 0 end
            when is_qualitative or rule_method is null or rule_method = 'entered' then null
            when rule_method = 'proportional'
                then weight * case when is_met then 1 else least(completion_rate, 1) end
            when rule_method = 'banded'
                then case when is_met then weight else banded_score(weight, completion_rate, points, step) end
            when rule_method = 'penalty' then penalty_score(weight, rule_value, threshold, per_point, penalise)
            when rule_method = 'tiers'
                then tier_score(weight, rule_value, tier_bounds, tier_points, tier_side, tier_otherwise)
        end as computed_score
    from counted
    left join shares using (year, project_key, rule_no)
),

indicator_items as (
    select
        year, project_key, 'indicator' as item_kind, indicator_no as item_no, ruleset, rule_no,
        weight, reported_score, computed_score,
        case
            when is_not_applicable then 'not_applicable'
            when computed_score is not null then rule_method
            else 'entered'
        end as method,
        case when is_not_applicable then 0 else coalesce(computed_score, reported_score, 0) end as raw_score,
        score_cell, src_file, src_sheet, run_id
    from indicator_scores
),

budget_rules as (
    select * from config.score_rules where applies = 'budget'
),

budget_matched as (
    select
        budget.*,
        rules.rule_no,
        rules.method as rule_method,
        coalesce(budget.printed_weight, rules.weight) as weight,
        rules.step, rules.points, rules.threshold, rules.per_point, rules.penalise,
        rules.tier_bounds, rules.tier_points, rules.tier_side, rules.tier_otherwise,
        budget.execution_rate * 100 as rule_value
    from budget
    left join budget_rules as rules on rules.ruleset = budget.ruleset
    qualify row_number() over (partition by budget.year, budget.project_key order by rules.rule_no nulls last) = 1
),

budget_items as (
    select
        year, project_key, 'budget' as item_kind, 0 as item_no, ruleset, rule_no, weight, reported_score,
        computed_score,
        case when computed_score is not null then rule_method else 'entered' end as method,
        coalesce(computed_score, reported_score, 0) as raw_score,
        score_cell, src_file, src_sheet, run_id
    from (
        select
            *,
            case
                when execution_rate is null or rule_method is null or rule_method = 'entered' then null
                when rule_method = 'budget_rate' then weight * least(execution_rate, 1)
                when rule_method = 'banded' then banded_score(weight, execution_rate, points, step)
                when rule_method = 'penalty' then penalty_score(weight, rule_value, threshold, per_point, penalise)
                when rule_method = 'tiers'
                    then tier_score(weight, rule_value, tier_bounds, tier_points, tier_side, tier_otherwise)
            end as computed_score
        from budget_matched
    )
    where weight is not null or reported_score is not null or computed_score is not null
)

select
    *,
    awarded(raw_score) as score
from (
    select * from indicator_items
    union all by name
    select * from budget_items
)
