-- grain: one row per project, with its spending rate
select
    *,
    exact_ratio(spent_yuan, budget_yuan) as spend_rate
from staging.stg_projects
