-- The run's own copies of the findings and quarantined rows of the rejected inputs it did not
-- read again (sql/rejected_unchanged.sql), so that `where run_id = ...` answers for every input
-- the run reports, as when it read them. Relation carried(file, from_run_id, run_id).
insert into audit.validation_issues by name
select issues.* replace (carried.run_id as run_id)
from audit.validation_issues as issues
join carried on issues.run_id = carried.from_run_id and issues.file = carried.file;

insert into audit.quarantine by name
select quarantined.* replace (carried.run_id as run_id)
from audit.quarantine as quarantined
join carried on quarantined.run_id = carried.from_run_id and quarantined.file = carried.file;
