"""The national project form (项目支出绩效自评表): one form per project and year, one or several per workbook.

tables.py holds its raw tables and identity, labels.py its labels, read.py its reading,
checks.py its checks across rows and forms; its SQL models are under sql/project/.
"""

from __future__ import annotations

from jixiao.families import Family
from jixiao.families.project import checks
from jixiao.families.project.tables import PARTITION, TABLES
from jixiao.publish.project_report import draw_forms
from jixiao.settings import SQL_DIR


def _read(path, year) -> list | None:
    from jixiao.families.project.read import read_forms

    return read_forms(path, year)


def cross_checks(frames, columns, forms) -> list:
    return checks.schema_findings(frames, forms) + checks.weight_findings(frames) + checks.lost_points(frames)


PROJECT = Family(
    key="project",
    title="项目支出绩效自评",
    sheets=None,  # label-anchored blocks, not fixed sheets (read.py)
    takes_rest=False,
    read=_read,
    tables=TABLES,
    partition=PARTITION,
    models="project",
    schemas=checks.SCHEMAS,
    cross_checks=cross_checks,
    year_checks=checks.duplicate_forms,
    year_rules=(checks.DUPLICATE_FORM,),
    report_queries=SQL_DIR / "reports" / "project",
    draw_chunk=draw_forms,
)
