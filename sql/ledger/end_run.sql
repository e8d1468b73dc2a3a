-- A run's end: its status ('completed', 'partial', 'skipped', 'failed') and, when it loaded, its counts.
-- Parameters: $run_id, $finished_at, $status, $loaded, $rejected (NULL leaves the counts as they are).
update audit.runs
set finished_at = $finished_at,
    status = $status,
    departments_loaded = coalesce($loaded, departments_loaded),
    departments_rejected = coalesce($rejected, departments_rejected)
where run_id = $run_id
