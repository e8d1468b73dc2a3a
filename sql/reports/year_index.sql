-- Every department of the year in the warehouse, for the year's index, with last year's figures. $year.
with findings as (
    select dept_code, run_id, count(*) as findings
    from audit.validation_issues
    where year = $year
    group by all
)

select
    this.year,
    this.dept_code,
    this.dept_name,
    this.total_score,
    this.grade,
    this.execution_rate,
    this.indicators_total,
    this.indicators_ge_100,
    this.indicators_90_100,
    this.indicators_lt_90,
    this.project_spend_rate,
    this.src_file,
    coalesce(findings.findings, 0) as findings,
    last.total_score as previous_total_score,
    last.execution_rate as previous_execution_rate
from mart.department_summary as this
left join findings
    on findings.dept_code = this.dept_code and findings.run_id = this.run_id
left join mart.department_summary as last
    on last.dept_code = this.dept_code and last.year = this.year - 1
where this.year = $year
order by this.dept_code
