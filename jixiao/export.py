"""The marts as Parquet for other tools: <export>/<mart>/year=YYYY/dept_code=X/data.parquet.

Hive-style partition folders, so DuckDB, polars or Spark read the whole tree
with partition pruning. Each partition's file is written next to its final
place and renamed over it, so a reader sees the old file or the new one,
never a half-written one.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from jixiao.warehouse import quote


def mart_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'mart' order by 1").fetchall()]


def export_partitions(con: duckdb.DuckDBPyConnection, export_dir: Path, year: int, dept_codes: list[str]) -> list[Path]:
    written = []
    for mart in mart_relations(con):
        for code in dept_codes:
            frame = con.sql(f"select * exclude (year, dept_code) from mart.{quote(mart)} "
                            "where year = $year and dept_code = $dept", params={"year": year, "dept": code}).pl()
            folder = export_dir / mart / f"year={year}" / f"dept_code={code}"
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / "data.parquet"
            partial = folder / ".data.parquet.partial"
            frame.write_parquet(partial)
            os.replace(partial, final)
            written.append(final)
    return written
