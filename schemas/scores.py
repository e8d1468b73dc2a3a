"""自评得分 (表2-1): one row per level-3 score item."""

import pandera.polars as pa
import polars as pl

from schemas.common import MAX_TEXT, Points

TEXT = {"min_value": 1, "max_value": MAX_TEXT}


class ScoreSchema(pa.DataFrameModel):
    year: pl.Int32
    dept_code: str
    item_no: pl.Int32 = pa.Field(ge=1)
    level1: str = pa.Field(str_length=TEXT)
    level1_weight: Points = pa.Field(gt=0, le=100)
    level2: str = pa.Field(str_length=TEXT)
    level2_weight: Points = pa.Field(gt=0, le=100)
    item: str = pa.Field(str_length={"min_value": 0, "max_value": MAX_TEXT})
    weight: Points = pa.Field(gt=0, le=100)
    reported_score: Points = pa.Field(nullable=True, ge=0)

    @pa.dataframe_check(error="score_within_weight")
    def score_within_weight(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("reported_score").is_null() | (pl.col("reported_score") <= pl.col("weight"))
        )
