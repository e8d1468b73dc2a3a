-- 项目支出绩效自评结果汇总表: every project form of the year, with its findings as the latest load recorded them.
-- Parameters: $year.
with findings as (
    select
        issues.project_key,
        count(*) filter (where issues.severity = 'error') as errors,
        count(*) filter (where issues.severity = 'warning') as warnings
    from audit.validation_issues as issues
    join mart.project_evaluation as evaluation
        on evaluation.project_key = issues.project_key and evaluation.run_id = issues.run_id
    where issues.year = $year and evaluation.year = $year
    group by all
)

select
    evaluation.year,
    evaluation.project_key,
    evaluation.dept_name,
    evaluation.unit_name,
    evaluation.project,
    evaluation.project_code,
    evaluation.budget_yuan,
    evaluation.spent_yuan,
    evaluation.execution_rate,
    evaluation.total_score,
    evaluation.reported_total,
    evaluation.grade,
    coalesce(findings.warnings, 0) as warnings,
    evaluation.src_file,
    evaluation.src_sheet
from mart.project_evaluation as evaluation
left join findings using (project_key)
where evaluation.year = $year
order by evaluation.dept_name, evaluation.unit_name, evaluation.project, evaluation.project_key
