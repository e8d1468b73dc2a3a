"""The marts as Parquet for other tools: <export>/<mart>/year=YYYY/data.parquet.

One file per mart and year, so a province of 10,000 departments is a few dozen
files rather than one per department (file-system metadata cost ~1 ms a file).
The year is a hive partition folder; dept_code stays a column and the rows are
ordered by it, so DuckDB and polars skip the row groups whose dept_code
min/max statistics exclude a filter.

Each run rewrites a year's file of every mart from the warehouse, all its
departments, so a rerun of one department leaves the year complete. DuckDB
writes each file into a scratch folder at the export root, on the same file
system, and it is then renamed over the old one: a reader sees the old file or
the new one, never a half-written one. The scratch folder is not inside any
mart's folder, because polars refuses a folder holding a file of another
extension and DuckDB's `*.parquet` glob would read a half-written `.parquet`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from jixiao.load.warehouse import quote

# At 10,000 departments the largest mart (project_spending, ~32 rows a
# department) holds ~316,000 rows a year: ten row groups of ~1,000 departments.
# Measured on that file, 32,768 was at least as fast as 2,048-122,880 for one
# department's rows (DuckDB, polars) and for a full read, and the smallest.
ROW_GROUP_SIZE = 32_768


def literal(path: Path) -> str:
    # COPY takes its file name as a literal, not a parameter.
    return str(path).replace("'", "''")


def mart_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'mart' order by 1").fetchall()]


def export_year(con: duckdb.DuckDBPyConnection, export_dir: Path, year: int) -> list[Path]:
    """Rewrite <export>/<mart>/year=YYYY/data.parquet of every mart; the files written."""
    export_dir.mkdir(parents=True, exist_ok=True)
    written = []
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=export_dir))
    try:
        for mart in mart_relations(con):
            staged = scratch / f"{mart}.parquet"
            # year lives in the folder name, as hive partitioning expects; the
            # columns after the partition's key make the order within a department or form repeatable.
            key = "project_key" if mart.startswith("project_") and mart != "project_spending" else "dept_code"
            con.execute(
                f"copy (select * exclude (year) from mart.{quote(mart)} where year = $year "
                f"order by {key}, columns(*)) "
                f"to '{literal(staged)}' (format parquet, row_group_size {ROW_GROUP_SIZE})",
                {"year": year},
            )
            folder = export_dir / mart / f"year={year}"
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(staged, folder / "data.parquet")
            written.append(folder / "data.parquet")
            # The earlier layout's per-department files (year=YYYY/dept_code=X/) would be read
            # beside the new file by a **/*.parquet glob, or as stale rows by the old */*/*.parquet one.
            for stale in folder.glob("dept_code=*"):
                shutil.rmtree(stale)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written
