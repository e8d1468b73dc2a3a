-- grain: one row per department and year: every figure the report states about it
with departments as (
    select * from intermediate.int_departments_rated
),

indicator_counts as (
    select
        year,
        dept_code,
        count(*) filter (where not is_not_applicable) as indicators_total,
        count(*) filter (where bucket = '>=100%') as indicators_ge_100,
        count(*) filter (where bucket = '90-100%') as indicators_90_100,
        count(*) filter (where bucket = '<90%') as indicators_lt_90,
        count(*) filter (where bucket = 'qualitative') as indicators_qualitative,
        count(*) filter (where bucket = 'not_applicable') as indicators_not_applicable,
        count(*) filter (where level1 = '产出指标' and not is_not_applicable) as output_indicators,
        count(*) filter (where level1 in ('效益指标', '满意度指标') and not is_not_applicable) as effect_indicators
    from intermediate.int_indicators_rated
    group by all
),

project_totals as (
    select
        year,
        dept_code,
        count(*) as projects,
        sum(budget_yuan) as project_budget_yuan,
        sum(spent_yuan) as project_spent_yuan
    from staging.stg_projects
    group by all
),

scores as (
    select
        year,
        dept_code,
        sum(score) as total_score,
        sum(distinct_level1_weight) as weight_total
    from (
        select
            *,
            case when row_number() over (partition by year, dept_code, level1 order by item_no) = 1
                then level1_weight else 0 end as distinct_level1_weight
        from intermediate.int_scores_computed
    )
    group by all
),

final as (
    select
        departments.year,
        departments.dept_code,
        departments.dept_name,
        departments.dept_short_name,
        departments.budget_yuan,
        departments.spent_yuan,
        departments.execution_rate,
        coalesce(indicator_counts.indicators_total, 0) as indicators_total,
        coalesce(indicator_counts.indicators_ge_100, 0) as indicators_ge_100,
        coalesce(indicator_counts.indicators_90_100, 0) as indicators_90_100,
        coalesce(indicator_counts.indicators_lt_90, 0) as indicators_lt_90,
        coalesce(indicator_counts.indicators_qualitative, 0) as indicators_qualitative,
        coalesce(indicator_counts.indicators_not_applicable, 0) as indicators_not_applicable,
        coalesce(indicator_counts.output_indicators, 0) as output_indicators,
        coalesce(indicator_counts.effect_indicators, 0) as effect_indicators,
        coalesce(project_totals.projects, 0) as projects,
        coalesce(project_totals.project_budget_yuan, 0) as project_budget_yuan,
        coalesce(project_totals.project_spent_yuan, 0) as project_spent_yuan,
        exact_ratio(project_totals.project_spent_yuan, project_totals.project_budget_yuan) as project_spend_rate,
        scores.total_score,
        scores.weight_total,
        grade(scores.total_score) as grade,
        departments.ruleset,
        departments.src_file,
        departments.run_id
    from departments
    left join indicator_counts using (year, dept_code)
    left join project_totals using (year, dept_code)
    left join scores using (year, dept_code)
)

select * from final
