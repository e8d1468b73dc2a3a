"""The department-wide form (部门整体支出绩效自评): one workbook per department and year.

Its sheets and labels live in jixiao/ingest/sheets.py (SHEETS), its extraction in
jixiao/ingest/extract.py, its raw tables in jixiao/ingest/frames.py (TABLES), its
pandera schemas in schemas/, its SQL models in sql/staging, sql/intermediate,
sql/marts, sql/audit and sql/views, its report queries in sql/reports/department,
its tables and sentences in jixiao/publish/.
"""

from __future__ import annotations

from jixiao.check.validate import SCHEMAS, schema_findings, score_weight_findings
from jixiao.domain import Department, with_same_identity
from jixiao.families import Family
from jixiao.ingest.extract import read_department
from jixiao.ingest.frames import TABLES
from jixiao.ingest.sheets import DEPARTMENT_SHEETS
from jixiao.publish.outputs import draw_chunk
from jixiao.settings import SQL_DIR


def cross_checks(frames, columns, departments) -> list:
    return schema_findings(frames, columns, departments) + score_weight_findings(frames["scores"], columns)


DUPLICATE_CODE = "basic.dept_code_duplicate"


def duplicate_codes(departments: list[Department]) -> None:
    """Two workbooks with one 部门编码 in a year are an error on both (basic.dept_code_duplicate)."""
    for dept, twins in with_same_identity(departments, lambda d: d.dept_code):
        others = "、".join(d.file for d in twins)
        dept.error(DUPLICATE_CODE, f"部门编码与其他工作簿重复（{others}），同一部门每年只能提交一个工作簿",
                   dept.basic_sheet or "基本情况", dept.basic_cells.get("dept_code"), dept.dept_code)


DEPARTMENT = Family(
    key="department",
    title="部门整体支出绩效自评",
    sheets=DEPARTMENT_SHEETS,
    takes_rest=True,  # every input no other family reads
    read=lambda path, year: [read_department(path, year)],
    tables=TABLES,
    partition=("year", "dept_code"),
    models="",
    schemas=SCHEMAS,
    cross_checks=cross_checks,
    year_checks=duplicate_codes,
    year_rules=(DUPLICATE_CODE,),
    report_queries=SQL_DIR / "reports" / "department",
    draw_chunk=draw_chunk,
)
