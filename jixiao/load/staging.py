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


def staging_folder(warehouse: Path, run_id: str) -> Path:
    """The folder of one run's staged rows."""
    return staging_root(warehouse) / run_id


class Staging:
    def __init__(self, folder: Path, tables: Mapping[str, Mapping[str, pl.DataType]]) -> None:
        self.folder = folder
        self.tables = tables  # written with every block
        self.blocks = 0
        self.rows = 0  # rows of `tables` staged
        self._parts: dict[str, int] = {}  # files staged per name

    def add(self, frames: Mapping[str, pl.DataFrame]) -> None:
        """One block's rows: a file per table, an empty one too, so that every table has the block."""
        for name, schema in self.tables.items():
            frame = frames.get(name)
            self.put(name, pl.DataFrame(schema=dict(schema)) if frame is None else frame)
            self.rows += 0 if frame is None else frame.height
        self.blocks += 1

    def put(self, name: str, frame: pl.DataFrame) -> None:
        """Rows of `name` (a table, or rows beside them such as quarantined ones) after those staged before."""
        (self.folder / name).mkdir(parents=True, exist_ok=True)
        part = self._parts.get(name, 0)
        frame.write_parquet(self.folder / name / f"{part:06d}.parquet")
        self._parts[name] = part + 1

    def files(self, name: str) -> list[Path]:
        return [self.folder / name / f"{part:06d}.parquet" for part in range(self._parts.get(name, 0))]

    def relation(self, name: str) -> str:
        """The rows staged as `name`, as DuckDB SQL, in the order they were staged."""
        files = self.files(name)
        if not files:
            raise ValueError(f"nothing staged as {name} in {self.folder}")
        paths = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
        return f"read_parquet([{paths}], union_by_name = true)"

    def scan(self, name: str, schema: Mapping[str, pl.DataType] | None = None) -> pl.LazyFrame:
        if files := self.files(name):
            return pl.scan_parquet(files)
        return pl.LazyFrame(schema=dict(schema if schema is not None else self.tables[name]))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.blocks, self._parts = 0, {}
