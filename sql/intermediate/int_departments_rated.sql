-- grain: one row per department and year, with its budget execution rate
select
    *,
    exact_ratio(spent_yuan, budget_yuan) as execution_rate
from staging.stg_departments
