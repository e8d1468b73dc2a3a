"""基本情况: one row per department workbook."""

import pandera.polars as pa
import polars as pl

from schemas.common import Money, Rate


class DepartmentSchema(pa.DataFrameModel):
    year: pl.Int32 = pa.Field(ge=2000, le=2100)
    dept_code: str = pa.Field(str_matches=r"^[A-Za-z0-9_-]{1,64}$")
    src_file: str
    dept_name: str = pa.Field(str_length={"min_value": 1, "max_value": 200})
    dept_short_name: str = pa.Field(nullable=True)
    budget_yuan: Money = pa.Field(gt=0)
    revenue_yuan: Money = pa.Field(nullable=True, ge=0)
    spent_yuan: Money = pa.Field(ge=0)
    spend_target_rate: Rate = pa.Field(nullable=True, ge=0, le=10)
    subunits: pl.Int32 = pa.Field(nullable=True, ge=0)
    ruleset: str = pa.Field(nullable=True)
