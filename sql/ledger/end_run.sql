-- A run's end: its status ('completed', 'partial', 'skipped', 'failed') and, when it loaded, its counts.
-- Parameters: $run_id, $finished_at, $status, $loaded, $rejected, $forms_loaded, $forms_rejected
-- (NULL leaves the counts as they are).
update audit.runs
set finished_at = $finished_at,
    status = $status,
    departments_loaded = coalesce($loaded, departments_loaded),
    departments_rejected = coalesce($rejected, departments_rejected),
    forms_loaded = coalesce($forms_loaded, forms_loaded),
    forms_rejected = coalesce($forms_rejected, forms_rejected)
where run_id = $run_id
