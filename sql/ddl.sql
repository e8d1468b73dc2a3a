-- Tables the pipeline appends to (the audit trail) and its configuration.
-- raw.* are created from jixiao/frames.py; mart.* from the views of sql/marts.
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
    parameters varchar,                   -- JSON
    jixiao_version varchar
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
    value varchar
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
    cells varchar                         -- JSON of the row as written
);

create table if not exists config.score_rules (
    ruleset varchar,
    rule_no integer,
    item_match varchar,
    method varchar,
    level1s varchar[],
    source_indicator varchar
);
