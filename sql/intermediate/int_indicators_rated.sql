-- grain: one row per indicator, with its completion rate and bucket
with indicators as (
    select * from staging.stg_indicators
),

rated as (
    select
        *,
        case when is_not_applicable or is_qualitative then null
             else completion_rate(direction, target_value, actual_value) end
            as completion_rate
    from indicators
),

bucketed as (
    select
        *,
        -- buckets use the rate as the table shows it (two decimals of a percent, half up)
        case
            when is_not_applicable then 'not_applicable'
            when is_qualitative then 'qualitative'
            when target_met(direction, actual_value, completion_rate) then '>=100%'
            when round(completion_rate, 4) >= 0.9 then '90-100%'
            else '<90%'
        end as bucket
    from rated
),

final as (
    select
        *,
        case
            when is_not_applicable then null
            when is_qualitative then actual_met
            else bucket = '>=100%'
        end as is_met
    from bucketed
)

select * from final
