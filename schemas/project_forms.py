"""项目支出绩效自评表: one schema per raw table of the project form (jixiao/families/project/tables.py).

What no form may hold, because the scores are computed from it: a negative amount, a 分值
outside 0–100, a name that is a pasted document. A missing name is the reader's finding
(project.name_missing). Printed results (执行率, 得分, 总分) are not bounded here: they are
recomputed and reconciled (sql/project/audit/), never a reason to reject a form.
"""

import pandera.polars as pa
import polars as pl

from schemas.common import MAX_TEXT, Money, Points

NAME = {"max_value": 200}
TEXT = {"min_value": 1, "max_value": MAX_TEXT}


class ProjectFormSchema(pa.DataFrameModel):
    year: pl.Int32 = pa.Field(ge=2000, le=2100)
    project_key: str
    project: str = pa.Field(nullable=True, str_length=NAME)
    unit_name: str = pa.Field(nullable=True, str_length=NAME)
    dept_name: str = pa.Field(nullable=True, str_length=NAME)
    total_weight: Points = pa.Field(nullable=True, ge=0, le=100)


class ProjectFundRowSchema(pa.DataFrameModel):
    year: pl.Int32
    project_key: str
    initial_budget_yuan: Money = pa.Field(nullable=True, ge=0)
    budget_yuan: Money = pa.Field(nullable=True, ge=0)
    spent_yuan: Money = pa.Field(nullable=True, ge=0)
    weight: Points = pa.Field(nullable=True, ge=0, le=100)


class ProjectIndicatorSchema(pa.DataFrameModel):
    year: pl.Int32
    project_key: str
    indicator_no: pl.Int32 = pa.Field(ge=1)
    indicator: str = pa.Field(str_length=TEXT)
    direction: str = pa.Field(isin=["higher", "lower", "qualitative", "not_applicable"])
    weight: Points = pa.Field(nullable=True, ge=0, le=100)
