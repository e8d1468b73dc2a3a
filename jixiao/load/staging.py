"""A run's typed rows on disk between reading and the load: one folder of Parquet files per raw table.

A province's year (a hundred thousand forms, ten thousand department workbooks) is about 2 GiB of
frames in Python; a run reads, checks and writes them a block of inputs at a time instead, and the
load reads them back with DuckDB, which streams Parquet within its memory limit. The folder is the
run's own (`<warehouse folder>/staging/<run id>`); it is removed when the load is done or the run
ends, and a later run removes the folders of runs the ledger says have ended. Nothing else is
ever deleted.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import polars as pl


def staging_root(warehouse: Path) -> Path:
    return warehouse.parent / "staging"


class Staging:
    def __init__(self, folder: Path, tables: Mapping[str, Mapping[str, pl.DataType]]) -> None:
        self.folder = folder
        self.tables = tables
        self.blocks = 0
        self.rows = 0  # rows staged, every table

    def add(self, frames: Mapping[str, pl.DataFrame]) -> None:
        """One block's rows: a file per table, an empty one too, so that every table has the block."""
        for name, schema in self.tables.items():
            frame = frames.get(name)
            frame = pl.DataFrame(schema=dict(schema)) if frame is None else frame
            (self.folder / name).mkdir(parents=True, exist_ok=True)
            frame.write_parquet(self.folder / name / f"{self.blocks:06d}.parquet")
            self.rows += frame.height
        self.blocks += 1

    def files(self, table: str) -> list[Path]:
        return [self.folder / table / f"{block:06d}.parquet" for block in range(self.blocks)]

    def relation(self, table: str) -> str:
        """The table's staged rows as DuckDB SQL, in the order they were staged."""
        if not self.blocks:
            raise ValueError(f"nothing staged in {self.folder}")
        paths = ", ".join("'" + str(path).replace("'", "''") + "'" for path in self.files(table))
        return f"read_parquet([{paths}], union_by_name = true)"

    def scan(self, table: str) -> pl.LazyFrame:
        if not self.blocks:
            return pl.LazyFrame(schema=dict(self.tables[table]))
        return pl.scan_parquet(self.files(table))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.blocks = 0
