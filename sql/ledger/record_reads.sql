-- Which of its inputs the run read ($run_id; relation run_reads(src_file, ignored_sheets, dept_name): the
-- inputs read, by their name in the year folder, a CSV folder's files under the folder's name).
update audit.run_inputs as inputs
set was_read = reads.src_file is not null, ignored_sheets = reads.ignored_sheets, dept_name = reads.dept_name
from (
    select mine.name, run_reads.src_file, run_reads.ignored_sheets, run_reads.dept_name
    from audit.run_inputs as mine
    left join run_reads on run_reads.src_file = split_part(mine.name, '/', 1)
    where mine.run_id = $run_id
) as reads
where inputs.run_id = $run_id and inputs.name = reads.name
