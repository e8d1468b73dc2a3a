-- The year's project forms by 主管部门: how many, their budget and spending, the execution rate of the
-- sums, and the mean score. Parameters: $year.
select
    year,
    dept_name,
    count(*) as projects,
    sum(budget_yuan) as budget_yuan,
    sum(spent_yuan) as spent_yuan,
    exact_ratio(sum(spent_yuan), sum(budget_yuan)) as execution_rate,
    exact_ratio(sum(total_score), count(*)) as mean_score,
    count(*) filter (where grade = '优') as grade_excellent
from mart.project_evaluation
where year = $year
group by all
order by dept_name
