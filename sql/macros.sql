-- Exact ratio of two DECIMALs as DECIMAL(38,12).
-- DuckDB divides DECIMALs in DOUBLE; a double can turn 0.12345 into 0.1234499…
-- and flip a half-up rounding, so the quotient is taken on scaled integers.
-- Truncating at 12 decimals never moves a value across a 4-decimal rounding boundary.
create or replace macro exact_ratio(num, den) as
    case
        when num is null or den is null or den = 0 then null
        else cast(
            (cast(round(cast(num as decimal(38, 6)) * 1000000) as hugeint) * cast(1000000000000 as hugeint))
                // cast(round(cast(den as decimal(38, 6)) * 1000000) as hugeint)
            as decimal(38, 0)
        ) * cast(0.000000000001 as decimal(13, 12))
    end;

-- An indicator's completion rate: actual ÷ target when higher is better, target ÷ actual when lower is better.
create or replace macro completion_rate(direction, target_value, actual_value) as
    case
        when direction = 'higher' then exact_ratio(actual_value, target_value)
        when direction = 'lower' then exact_ratio(target_value, actual_value)
    end;

-- Whether a quantitative indicator met its target, judged by the rate as a table shows it (two decimals
-- of a percent, half up); lower-is-better with an actual of 0 cannot be divided: it beat any target.
create or replace macro target_met(direction, actual_value, rate) as
    (direction = 'lower' and actual_value = 0) or round(rate, 4) >= 1;

-- A score awarded in points: two decimals, half up (DuckDB rounds a DECIMAL half away from zero, and
-- scores are never negative), never below 0.
create or replace macro awarded(points) as
    cast(round(cast(greatest(points, 0) as decimal(38, 12)), 2) as decimal(38, 12));

-- Whether a printed figure is the computed one rounded half up to the printed precision, `tolerance` being
-- half a unit of that precision (a tolerance of 0: the two are equal).
create or replace macro rounds_to(computed, printed, tolerance) as
    computed >= printed - tolerance and (computed < printed + tolerance or computed = printed);

-- Half a unit of the last decimal a printed fraction carries (0.86 -> 0.005, 0.8572 -> 0.00005): a printed
-- rate matches when the computed one rounds to it. Kept between integer percents and 0.01 % precision.
create or replace macro printed_half_unit(value) as
    cast(
        0.5 * pow(10, -least(greatest(
            length(rtrim(split_part(cast(cast(value as decimal(38, 12)) as varchar), '.', 2), '0')), 2), 6))
        as decimal(38, 12));

-- Score rule methods shared by the form families (jixiao/check/rulesets.toml documents each).
-- banded: full marks at 100 %, `points` off for every whole `step` (a fraction) below it.
create or replace macro banded_score(weight, rate, points, step) as
    weight - points * floor(exact_ratio(1 - least(rate, 1), step));

-- penalty: `per_point` off for every unit the value lies over (or, penalise = 'below', under) the threshold.
create or replace macro penalty_score(weight, value, threshold, per_point, penalise) as
    weight - per_point * greatest(case when penalise = 'below' then threshold - value else value - threshold end, 0);

-- tiers: the points of the first tier whose bound the value is at most (or, side = 'at_least', at least);
-- `otherwise` past the last; never above the weight.
create or replace macro tier_score(weight, value, bounds, points, side, otherwise) as
    least(coalesce(
        list_filter(list_zip(bounds, points),
                    lambda t: case when side = 'at_least' then value >= t[1] else value <= t[1] end)[1][2],
        otherwise), weight);

-- The grade of a total score (优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差), for departments and project forms alike.
create or replace macro grade(total) as
    case
        when round(total, 2) >= 90 then '优'
        when round(total, 2) >= 80 then '良'
        when round(total, 2) >= 60 then '中'
        else '差'
    end;
