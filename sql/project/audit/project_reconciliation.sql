-- grain: one row per figure a project form prints (or leaves empty where it can be computed), checked
-- against the figure recomputed by the form's rule set: 执行率, the budget 得分, each indicator's 得分,
-- 总分, and each qualitative score against the tier its wording names
with budget as (
    select * from intermediate.int_project_budget
),

scores as (
    select * from intermediate.int_project_scores
),

evaluation as (
    select * from build.project_evaluation
),

indicators as (
    select * from intermediate.int_project_indicators_rated
),

forms as (
    select year, project_key, total_cell, src_file, src_sheet, run_id from staging.stg_project_forms
),

execution_rates as (
    select
        year, project_key,
        '执行率' as figure,
        'execution_rate' as figure_key,
        'rate' as kind,
        cast(reported_rate as decimal(38, 12)) as reported_value,
        cast(execution_rate as decimal(38, 12)) as computed_value,
        printed_half_unit(reported_rate) as tolerance,
        src_file, src_sheet, rate_cell as src_cell, run_id
    from budget
    where execution_rate is not null
),

item_scores as (
    select
        scores.year, scores.project_key,
        case when scores.item_kind = 'budget' then '得分：预算执行率' else '得分：' || indicators.indicator end as figure,
        case when scores.item_kind = 'budget' then 'budget_score' else 'indicator_score' end as figure_key,
        'score' as kind,
        cast(scores.reported_score as decimal(38, 12)) as reported_value,
        scores.score as computed_value,
        cast(0.005 as decimal(38, 12)) as tolerance,
        scores.src_file, scores.src_sheet, scores.score_cell as src_cell, scores.run_id
    from scores
    left join indicators
        on indicators.year = scores.year and indicators.project_key = scores.project_key
        and indicators.indicator_no = scores.item_no and scores.item_kind = 'indicator'
    where scores.method not in ('entered', 'not_applicable')
),

totals as (
    select
        evaluation.year, evaluation.project_key,
        '总分' as figure,
        'total_score' as figure_key,
        'score' as kind,
        cast(evaluation.reported_total as decimal(38, 12)) as reported_value,
        cast(evaluation.total_score as decimal(38, 12)) as computed_value,
        cast(0.005 as decimal(38, 12)) as tolerance,
        forms.src_file, forms.src_sheet, forms.total_cell as src_cell, forms.run_id
    from evaluation
    join forms using (year, project_key)
),

qualitative as (
    -- an entered qualitative score must lie in the tier its wording names; computed: the nearest score that does
    select
        year, project_key,
        '得分（定性指标）：' || indicator as figure,
        'qualitative_score' as figure_key,
        'score' as kind,
        cast(reported_score as decimal(38, 12)) as reported_value,
        cast(greatest(least(reported_score, weight * high), weight * low) as decimal(38, 12)) as computed_value,
        cast(0 as decimal(38, 12)) as tolerance,
        src_file, src_sheet, score_cell as src_cell, run_id
    from (
        select
            *,
            case qualitative_tier when 'met' then 0.8 when 'partial' then 0.5 else 0 end as low,
            case qualitative_tier when 'met' then 1 when 'partial' then 0.8 else 0.5 end as high
        from indicators
        where is_qualitative and qualitative_tier is not null and reported_score is not null and weight is not null
    )
),

checks as (
    select * from execution_rates
    union all by name select * from item_scores
    union all by name select * from totals
    union all by name select * from qualitative
)

select
    year,
    project_key,
    figure,
    figure_key,
    kind,
    reported_value,
    computed_value,
    computed_value - reported_value as difference,
    tolerance,
    case
        -- a printed figure left empty that the form's own rows give: a finding, not a gap
        when reported_value is null and computed_value is not null then 'missing'
        when reported_value is null or computed_value is null then 'not_reconciled'
        -- half up: the printed figure is the computed one rounded to its own precision
        when rounds_to(computed_value, reported_value, tolerance) then 'match'
        else 'mismatch'
    end as status,
    src_file as file,
    src_sheet as sheet,
    src_cell as cell,
    run_id
from checks
