-- Runs left 'running' by a process that died (the caller holds the writer lock: none can still be going).
update audit.runs set status = 'interrupted' where status = 'running'
