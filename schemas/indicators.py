"""绩效指标 (表1-2 with the actuals of 表2-2): one row per indicator."""

import pandera.polars as pa
import polars as pl

from schemas.common import MAX_TEXT, Points, Rate, Value

TEXT = {"min_value": 1, "max_value": MAX_TEXT}


class IndicatorSchema(pa.DataFrameModel):
    year: pl.Int32
    dept_code: str
    indicator_no: pl.Int32 = pa.Field(ge=1)
    level1: str = pa.Field(str_length=TEXT)
    level2: str = pa.Field(str_length=TEXT)
    indicator: str = pa.Field(str_length=TEXT)
    target_text: str = pa.Field(str_length=TEXT)
    target_value: Value = pa.Field(nullable=True)
    direction: str = pa.Field(isin=["higher", "lower", "qualitative", "not_applicable"])
    actual_text: str = pa.Field(str_length=TEXT)
    actual_value: Value = pa.Field(nullable=True)
    reported_rate: Rate = pa.Field(nullable=True, ge=0)
    weight: Points = pa.Field(nullable=True, ge=0, le=100)
    reported_score: Points = pa.Field(nullable=True, ge=0, le=100)

    class Config:
        # Within a workbook: two workbooks of one 部门编码 are the year's check (basic.dept_code_duplicate),
        # so that a finding never depends on which inputs were checked together.
        unique = ["src_file", "level1", "level2", "indicator"]

    @pa.dataframe_check(error="score_within_weight")
    def score_within_weight(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # Only where the sheet gives both: the per-indicator 分值/得分 columns are optional.
        return data.lazyframe.select(
            pl.col("reported_score").is_null() | pl.col("weight").is_null() | (pl.col("reported_score") <= pl.col("weight"))
        )
