"""The marts as Parquet for other tools: <export>/<mart>/year=YYYY/dept_code=X/data.parquet.

Hive-style partition folders, so DuckDB, polars or Spark read the whole tree
with partition pruning. DuckDB writes all of a run's partitions of a mart in
one COPY into a scratch folder; each partition's file is then renamed over the
old one, so a reader sees the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from jixiao.warehouse import quote


def mart_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'mart' order by 1").fetchall()]


def export_partitions(con: duckdb.DuckDBPyConnection, export_dir: Path, year: int, dept_codes: list[str]) -> list[Path]:
    export_dir.mkdir(parents=True, exist_ok=True)
    written = []
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=export_dir))
    try:
        for mart in mart_relations(con):
            staged = scratch / mart
            # The partition values live in the folder names, as hive partitioning expects.
            con.execute(
                f"copy (select * from mart.{quote(mart)} where year = $year and list_contains($codes, dept_code)) "
                f"to '{staged}' (format parquet, partition_by (year, dept_code), write_partition_columns false)",
                {"year": year, "codes": dept_codes},
            )
            for code in dept_codes:
                source = next((staged / f"year={year}" / f"dept_code={code}").glob("*.parquet"), None)
                if source is None:
                    continue
                folder = export_dir / mart / f"year={year}" / f"dept_code={code}"
                folder.mkdir(parents=True, exist_ok=True)
                os.replace(source, folder / "data.parquet")
                written.append(folder / "data.parquet")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written
