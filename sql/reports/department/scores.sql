-- The scores of the departments drawn together ($year, $depts).
select * from mart.score_sheet where year = $year and list_contains($depts, dept_code) order by dept_code, item_no
