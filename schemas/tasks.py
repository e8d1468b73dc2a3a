"""重点工作任务 (表1-1): one row per key task."""

import pandera.polars as pa
import polars as pl

from schemas.common import MAX_TEXT


class TaskSchema(pa.DataFrameModel):
    year: pl.Int32
    dept_code: str
    task_no: pl.Int32 = pa.Field(ge=1)
    task: str = pa.Field(str_length={"min_value": 1, "max_value": MAX_TEXT})
    outcome: str = pa.Field(nullable=True, str_length={"min_value": 0, "max_value": 10 * MAX_TEXT})
