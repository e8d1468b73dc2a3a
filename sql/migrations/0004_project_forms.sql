-- v4: project forms (项目支出绩效自评表) are inputs beside department workbooks; their
-- findings and quarantined rows name the form's project (jixiao/families/project/tables.py).
alter table audit.validation_issues add column project_key varchar;
alter table audit.quarantine add column project_key varchar;
