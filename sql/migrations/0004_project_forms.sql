-- v4: project forms (项目支出绩效自评表) are inputs beside department workbooks; their
-- findings and quarantined rows name the form's project (jixiao/families/project/tables.py).
alter table audit.validation_issues add column project_key varchar;
alter table audit.quarantine add column project_key varchar;
-- Score rules gain the methods and parameters of every form family (jixiao/check/rulesets.py).
alter table config.score_rules add column applies varchar;
alter table config.score_rules add column level2s varchar[];
alter table config.score_rules add column upper_band decimal(18, 6);
alter table config.score_rules add column weight decimal(18, 6);
alter table config.score_rules add column step decimal(18, 6);
alter table config.score_rules add column points decimal(18, 6);
alter table config.score_rules add column threshold decimal(18, 6);
alter table config.score_rules add column per_point decimal(18, 6);
alter table config.score_rules add column penalise varchar;
alter table config.score_rules add column value_of varchar;
alter table config.score_rules add column tier_bounds decimal(18, 6)[];
alter table config.score_rules add column tier_points decimal(18, 6)[];
alter table config.score_rules add column tier_side varchar;
alter table config.score_rules add column tier_otherwise decimal(18, 6);
-- A run's project forms loaded and rejected, beside its departments.
alter table audit.runs add column forms_loaded integer;
alter table audit.runs add column forms_rejected integer;
