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

from jixiao.ingest.frames import ReadBatch
from jixiao.ingest.sheets import SheetSet


@dataclass(frozen=True)
class Family:
    key: str
    title: str  # as the reports name the form
    sheets: SheetSet | None  # the sheets the shared reader looks for, when the family's inputs have fixed sheets
    takes_rest: bool  # reads every input no other family reads (it is tried last)
    read: Callable[[Path, int], list | None]  # (path, folder year) -> its inputs as read; None: not this family's
    tables: Mapping[str, Mapping[str, pl.DataType]]  # raw tables: frames and raw.* alike
    partition: tuple[str, ...]  # the columns a rerun replaces by: (year, dept_code), (year, project_key)
    models: str  # its SQL models' folder within sql/ ('' for sql/ itself): staging/, intermediate/, marts/, audit/, views/
    schemas: Mapping[str, object]  # pandera schema per raw table
    cross_checks: Callable[..., list]  # (frames, columns, inputs) -> findings across sheets and rows, input by input
    # The year's inputs -> each one's findings that depend on other inputs (one identity, two inputs): by
    # identity alone, as a run checks and stages its rows a block of inputs at a time (jixiao/load/staging.py).
    year_checks: Callable[[list], None]
    year_rules: tuple[str, ...]  # the rules year_checks raise: an input they rejected is read again by every run
    report_queries: Path  # one .sql per report table, over $year and $depts
    draw_chunk: Callable[[Sequence[tuple]], list]  # report jobs -> (files written, warnings) each


def all_families() -> tuple[Family, ...]:
    """Every form family, department-wide first (a function: the families' modules import the shared ones)."""
    from jixiao.families.department import DEPARTMENT
    from jixiao.families.project import PROJECT

    return (DEPARTMENT, PROJECT)


def raw_tables() -> dict[str, Mapping[str, pl.DataType]]:
    """Every family's raw tables (distinct names: they share the raw schema)."""
    tables: dict[str, Mapping[str, pl.DataType]] = {}
    for family in all_families():
        if clash := tables.keys() & family.tables.keys():
            raise ValueError(f"raw tables declared by two families: {sorted(clash)}")
        tables |= family.tables
    return tables


def read_chunk(items: Sequence[tuple[Path, int]]) -> ReadBatch:
    """(path, folder year) items read and typed by their families: the unit of work of a reading process.
    Each input is opened once per family that looks at it: a family's reader tells, as it reads, whether
    the input is its own."""
    families = sorted(all_families(), key=lambda f: f.takes_rest)
    read: dict[str, list] = {family.key: [] for family in families}
    for path, year in items:
        for family in families:
            if (got := family.read(path, year)) is not None:
                read[family.key].extend(got)
                break
    batch = ReadBatch.of(read["department"], read["project"])
    for item in (*batch.departments, *batch.forms):
        item.rows = {}  # they are in the frames now
    return batch
