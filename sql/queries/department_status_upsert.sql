-- Each department a run read: its latest status, and whether its marts' data is stale (loaded by an earlier
-- run, while this run rejected its workbook). {summary}: the relation holding the marts' department rows.
-- Parameters: $run_id, $now; relation run_status(year, dept_code, status, file).
insert or replace into audit.department_status by name
with marts as (
    select year, dept_code, run_id, src_file from {summary}
),
attempt as (
    select
        r.year,
        r.dept_code,
        r.status,
        r.file,
        s.is_stale as was_stale,
        s.stale_since_run_id as was_stale_since_run_id,
        s.stale_since as was_stale_since,
        coalesce(s.loaded_run_id, m.run_id) as previous_load
    from run_status as r
    left join audit.department_status as s using (year, dept_code)
    left join marts as m using (year, dept_code)
)
select
    year,
    dept_code,
    $run_id as last_run_id,
    status as last_status,
    file as last_file,
    case when status = 'loaded' then $run_id else previous_load end as loaded_run_id,
    status = 'rejected' and previous_load is not null as is_stale,
    case when status = 'rejected' and previous_load is not null
         then case when was_stale then was_stale_since_run_id else $run_id end end as stale_since_run_id,
    case when status = 'rejected' and previous_load is not null
         then case when was_stale then was_stale_since else $now end end as stale_since,
    $now as updated_at
from attempt
