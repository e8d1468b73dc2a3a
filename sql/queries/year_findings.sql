-- The year's findings as they stand once run $run_id has read its own: those of each input's last read
-- (relation year_inputs: the rows of year_inputs.sql), and this run's findings of no input.
-- Parameters: $run_id.
select issues.*
from audit.validation_issues as issues
join year_inputs on issues.run_id = year_inputs.run_id and issues.file = year_inputs.src_file
union all
select * from audit.validation_issues where run_id = $run_id and file is null
