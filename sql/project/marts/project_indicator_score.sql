-- grain: one row per indicator of a project form, with its completion rate and its score by the rule that gave it
with indicators as (
    select * from intermediate.int_project_indicators_rated
),

scores as (
    select * from intermediate.int_project_scores where item_kind = 'indicator'
),

forms as (
    select year, project_key, dept_name, unit_name, project, project_code from staging.stg_project_forms
)

select
    indicators.year,
    indicators.project_key,
    forms.dept_name,
    forms.unit_name,
    forms.project,
    forms.project_code,
    indicators.indicator_no,
    indicators.level1,
    indicators.level1_weight,
    indicators.level2,
    indicators.indicator,
    indicators.nature,
    indicators.unit,
    indicators.target_text,
    indicators.target_value,
    indicators.actual_text,
    indicators.actual_value,
    indicators.direction,
    indicators.completion_rate,
    indicators.is_met,
    indicators.qualitative_tier,
    indicators.weight,
    scores.score,
    scores.computed_score,
    indicators.reported_score,
    scores.method,
    scores.ruleset,
    scores.rule_no,
    indicators.deviation,
    indicators.src_file,
    indicators.src_sheet,
    indicators.src_row,
    indicators.score_cell,
    indicators.run_id
from indicators
join forms using (year, project_key)
left join scores on scores.year = indicators.year and scores.project_key = indicators.project_key
    and scores.item_no = indicators.indicator_no
