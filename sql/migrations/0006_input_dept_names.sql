-- v6: the 部门名称 a run read from each of its department inputs, so that the year's index names a
-- rejected workbook's department whether this run read it or it stood rejected (sql/change_plan.sql).
alter table audit.run_inputs add column dept_name varchar;
