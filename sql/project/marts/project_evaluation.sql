-- grain: one row per project form: its budget and spending, execution rate and scores, computed and printed
with forms as (
    select * from staging.stg_project_forms
),

budget as (
    select * from intermediate.int_project_budget
),

scores as (
    select
        year,
        project_key,
        sum(score) filter (where item_kind = 'budget') as budget_score,
        sum(score) filter (where item_kind = 'indicator') as indicator_score,
        sum(score) as total_score,
        sum(weight) filter (where item_kind = 'budget') as budget_weight,
        sum(weight) filter (where item_kind = 'indicator') as indicator_weight,
        count(*) filter (where item_kind = 'indicator') as indicators,
        count(*) filter (where method = 'entered' and item_kind = 'indicator') as indicators_entered
    from intermediate.int_project_scores
    group by all
)

select
    forms.year,
    forms.project_key,
    forms.dept_name,
    forms.unit_name,
    forms.unit_code,
    forms.project,
    forms.project_code,
    budget.budget_yuan,
    budget.spent_yuan,
    budget.execution_rate,
    budget.reported_rate,
    scores.budget_weight,
    coalesce(scores.budget_score, 0) as budget_score,
    budget.reported_score as reported_budget_score,
    scores.indicator_weight,
    coalesce(scores.indicator_score, 0) as indicator_score,
    coalesce(scores.total_score, 0) as total_score,
    forms.reported_total,
    grade(coalesce(scores.total_score, 0)) as grade,
    coalesce(scores.indicators, 0) as indicators,
    coalesce(scores.indicators_entered, 0) as indicators_entered,
    forms.ruleset,
    forms.src_file,
    forms.src_sheet,
    forms.run_id
from forms
left join budget using (year, project_key)
left join scores using (year, project_key)
