-- The warehouse at the latest schema version, for a new file. An existing file is
-- brought here by sql/migrations/ (see jixiao/load/warehouse.py::migrate); keep both in step.
-- raw.* are created from jixiao/ingest/frames.py; mart.* from the views of sql/marts.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists build;
create schema if not exists mart;
create schema if not exists audit;
create schema if not exists config;

create table if not exists audit.runs (
    run_id varchar primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    year integer not null,
    status varchar not null,              -- running, completed, partial (some rejected), failed
    departments_loaded integer,
    departments_rejected integer,
    forms_loaded integer,                 -- project forms (项目支出绩效自评表)
    forms_rejected integer,
    parameters varchar,                   -- JSON
    jixiao_version varchar,
    code_version varchar,                 -- hash of the package, schemas and SQL (jixiao/load/ledger.py)
    forced boolean default false
);

create table if not exists audit.run_inputs (
    run_id varchar not null,
    path varchar not null,                -- as the run was given it
    size bigint,
    sha256 varchar,
    mtime timestamptz,
    name varchar,                         -- relative to the year folder
    was_read boolean,                     -- read by the run (false: standing, or left out by --dept)
    ignored_sheets varchar[],             -- the read's sheets (or a CSV folder's files) of no known name
    dept_name varchar                     -- the 部门名称 the read found (a department input)
);

create table if not exists audit.run_stages (
    run_id varchar not null,
    stage varchar not null,               -- read, validate, load, render, export
    started_at timestamptz,
    rows bigint,
    seconds double
);

create table if not exists audit.validation_issues (
    run_id varchar not null,
    year integer,
    dept_code varchar,
    file varchar,
    sheet varchar,
    cell varchar,
    severity varchar not null,            -- error, warning
    rule varchar not null,
    message varchar not null,
    value varchar,
    project_key varchar                   -- a project form's identity; null for a department's finding
);

create table if not exists audit.quarantine (
    run_id varchar not null,
    year integer,
    dept_code varchar,
    file varchar,
    sheet varchar,
    row integer,
    rule varchar not null,
    reason varchar not null,
    cells varchar,                        -- JSON of the row as written
    project_key varchar                   -- a project form's identity; null for a department's row
);

-- One row per department-year a run has read: is what the marts hold still the latest
-- workbook? A rejected workbook leaves the last good data in the marts, marked stale here
-- (jixiao/load/department_status.py). Created by name on existing files too: ddl.sql runs after migrations.
create table if not exists audit.department_status (
    year integer not null,
    dept_code varchar not null,
    last_run_id varchar not null,         -- the latest run that read this department
    last_status varchar not null,         -- loaded, rejected
    last_file varchar,                    -- the file (or CSV folder) that run read
    loaded_run_id varchar,                -- the run whose data the marts hold; null: never loaded
    is_stale boolean not null,            -- the marts hold data older than the department's latest workbook
    stale_since_run_id varchar,           -- the first rejected run since loaded_run_id
    stale_since timestamptz,
    updated_at timestamptz not null,
    primary key (year, dept_code)
);

create table if not exists config.score_rules (
    ruleset varchar,
    rule_no integer,
    item_match varchar,
    method varchar,
    level1s varchar[],
    source_indicator varchar,
    applies varchar,                      -- item (a department's score item), indicator, budget
    level2s varchar[],
    upper_band decimal(18, 6),
    weight decimal(18, 6),
    step decimal(18, 6),
    points decimal(18, 6),
    threshold decimal(18, 6),
    per_point decimal(18, 6),
    penalise varchar,
    value_of varchar,
    tier_bounds decimal(18, 6)[],
    tier_points decimal(18, 6)[],
    tier_side varchar,
    tier_otherwise decimal(18, 6)
);
