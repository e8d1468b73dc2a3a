-- The project forms to redraw, one row each. Parameters: $year, $keys (project_key list).
select forms.*, evaluation.* exclude (year, project_key, dept_name, unit_name, unit_code, project, project_code,
                                      reported_total, ruleset, src_file, src_sheet, run_id)
from staging.stg_project_forms as forms
join mart.project_evaluation as evaluation using (year, project_key)
where forms.year = $year and list_contains($keys, forms.project_key)
order by forms.project_key
