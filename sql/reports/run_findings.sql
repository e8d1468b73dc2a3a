-- A run's findings, errors first ($run), the first $limit of them.
select file, sheet, cell, severity, rule, message, value
from audit.validation_issues
where run_id = $run
order by severity, file, sheet, cell, rule
limit $limit
