-- v2: the run ledger. Runs record the code they ran and whether they were forced;
-- every input file and every stage of a run is recorded.
alter table audit.runs add column code_version varchar;
alter table audit.runs add column forced boolean default false;

create table audit.run_inputs (
    run_id varchar not null,
    path varchar not null,
    size bigint,
    sha256 varchar,
    mtime timestamptz
);

create table audit.run_stages (
    run_id varchar not null,
    stage varchar not null,
    started_at timestamptz,
    rows bigint,
    seconds double
);
