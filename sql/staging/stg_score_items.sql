-- grain: one row per level-3 item of the score sheet (表2-1)
select
    year, dept_code, item_no,
    level1, level1_weight, level2, level2_weight,
    item, weight, reported_score, reported_score_cell,
    item = '' as is_unnamed,
    src_file, src_sheet, src_row, run_id
from raw.scores
