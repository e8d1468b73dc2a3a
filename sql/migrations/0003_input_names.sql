-- v3: inputs are also named relative to their year folder (基本情况.csv inside two
-- department folders are two inputs), so runs given relative and absolute paths compare.
alter table audit.run_inputs add column name varchar;
update audit.run_inputs set name = regexp_extract(path, '[^/]+$');
