"""Form families: what is specific to one kind of form, declared once.

A family names its sheets (the labels and aliases the shared reader looks
for), how one input becomes typed rows, its raw tables (the columns and types
of frames and of the warehouse's raw layer), its pandera schemas and
cross-sheet checks, the SQL folder its report tables are queried from, and how
one chunk of its reports is drawn. The pipeline asks the family for each of
these; the shared machinery (grids, cell typing, findings, the ledger and
change plan, partition replace, the pools) takes them as arguments.

The department-wide report (部门整体支出绩效自评) is the first family
(jixiao/families/department.py). A second one, the national project form, is
added by declaring it here beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from jixiao.ingest.sheets import SheetSet


@dataclass(frozen=True)
class Family:
    key: str
    title: str  # as the reports name the form
    sheets: SheetSet
    read_chunk: Callable[[Sequence[tuple[Path, int]]], object]  # (path, folder year) items -> ReadBatch
    tables: Mapping[str, Mapping[str, pl.DataType]]  # raw tables: frames and raw.* alike
    schemas: Mapping[str, object]  # pandera schema per raw table
    cross_checks: Callable[..., list]  # (frames, columns, departments) -> findings across sheets and rows
    report_queries: Path  # one .sql per report table, over $year and $depts
    draw_chunk: Callable[[Sequence[tuple]], list]  # report jobs -> (files written, warnings) each
