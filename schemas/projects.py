"""项目支出 (表2-3): one row per project under a key task."""

import pandera.polars as pa
import polars as pl

from schemas.common import MAX_TEXT, Money, Rate

TEXT = {"min_value": 1, "max_value": MAX_TEXT}


class ProjectSchema(pa.DataFrameModel):
    year: pl.Int32
    dept_code: str
    task_no: pl.Int32 = pa.Field(ge=1)
    task: str = pa.Field(str_length=TEXT)
    project_no: pl.Int32 = pa.Field(ge=1)
    project: str = pa.Field(str_length=TEXT)
    budget_yuan: Money = pa.Field(ge=0)
    spent_yuan: Money = pa.Field(ge=0)
    reported_rate: Rate = pa.Field(nullable=True, ge=0)

    class Config:
        # Names are compared exactly: two projects differing only by 、 are two projects.
        unique = ["src_file", "task", "project"]  # within a workbook, as for indicators
