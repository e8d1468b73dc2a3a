-- grain: one row per indicator of a form, with its completion rate, whether it met its target, and the
-- share of its 分值 its wording (达成, 部分达成, 未达成) allows a qualitative score
with indicators as (
    select * from staging.stg_project_indicators
),

rated as (
    select
        *,
        case when is_not_applicable or is_qualitative then null
             else completion_rate(direction, target_value, actual_value) end
            as completion_rate
    from indicators
)

select
    *,
    case
        when is_not_applicable then null
        when is_qualitative then actual_met
        else target_met(direction, actual_value, completion_rate)
    end as is_met,
    -- the tier a qualitative actual's wording names, as a share of the 分值 (contract: 100–80 %, 80–50 %, 50–0 %)
    case
        when not is_qualitative then null
        when contains(actual_text, '部分') then 'partial'
        when regexp_matches(actual_text, '未|没有|不') or actual_met = false then 'missed'
        when actual_met or contains(actual_text, '达成') or contains(actual_text, '完成') then 'met'
    end as qualitative_tier
from rated
