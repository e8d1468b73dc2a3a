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
