-- A run is recorded before it does anything ($run_id, $started_at, $year, $parameters, $jixiao_version,
-- $code_version, $forced). The caller holds the writer lock, so a run still 'running' died: it is marked
-- 'interrupted' first (the statement before this one, sql/ledger/interrupt_dead_runs.sql).
insert into audit.runs (run_id, started_at, year, status, parameters, jixiao_version, code_version, forced)
values ($run_id, $started_at, $year, 'running', $parameters, $jixiao_version, $code_version, $forced)
