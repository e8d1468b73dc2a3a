"""The change plan of a year's inputs, and whether a year's workbooks are safe to read yet.

One query, sql/change_plan.sql, says for each input file of a year how it
stands against the warehouse; the nightly's choice of years, the ledger's skip
of a repeated run and the year flow's choice of inputs to read all ask it.
Files are matched by their path within the year folder (`name`): a served
nightly gets absolute paths where `jixiao run` gets relative ones, and two
department folders of CSV files both hold a 基本情况.csv. A touched but
unchanged file is not a change.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from jixiao.families import all_families
from jixiao.ingest.read import not_a_plain_input, workbook_paths
from jixiao.load.ledger import code_version, input_fingerprints
from jixiao.load.warehouse import connect, has_tables
from jixiao.publish.outputs import FORMATS
from jixiao.settings import SQL_DIR

# Years the CLI accepts; other folders under raw/ are not years.
YEARS = range(2000, 2101)


@dataclass(frozen=True)
class Planned:
    """One input file of the year, or one a baseline run read that is gone (change 'removed')."""

    name: str  # path within the year folder
    src_file: str  # the department input it belongs to (the file, or its CSV folder)
    change: str  # against the baseline run: 'new', 'changed', 'same', 'removed'
    dept_code: str | None  # the department whose loaded data came from these bytes, if any
    must_read: bool  # False: the loaded data stands (same bytes, code, rule set and formats)
    no_baseline: bool  # there is no baseline run to compare with
    stands_rejected: bool  # not read: its last read rejected it, and reading it again would too


def change_plan(con: duckdb.DuckDBPyConnection, year: int, current: pl.DataFrame, *, parameters: str | None,
                ruleset: str | None = None, rules_file: str | None = None, formats=FORMATS) -> list[Planned]:
    """sql/change_plan.sql for `current` (name, sha256). `parameters`: the run's, for the ledger's baseline
    (the last finished run with these parameters and this code); None for the nightly's (the last finished
    full run of the year). `rules_file`: the sha256 of the run's --rules-file, if any."""
    con.register("current_inputs", current.select("name", "sha256").to_arrow())
    try:
        rows = con.execute((SQL_DIR / "change_plan.sql").read_text(encoding="utf-8"), {
            "year": year, "code_version": code_version(), "ruleset": ruleset, "rules_file": rules_file,
            "formats": sorted(formats), "parameters": parameters,
            "year_rules": [rule for family in all_families() for rule in family.year_rules]}).fetchall()
    finally:
        con.unregister("current_inputs")
    return [Planned(*row) for row in rows]


def is_repeat(plan: list[Planned]) -> bool:
    """Every input as the baseline run read it: the run would redo that run."""
    return bool(plan) and not plan[0].no_baseline and all(p.change == "same" for p in plan)


def current_inputs(year_dir: Path) -> pl.DataFrame:
    return input_fingerprints(year_dir).select("name", "sha256")


class InputsChanging(RuntimeError):
    """A workbook is still being written (copied, saved); worth retrying shortly."""


@dataclass(frozen=True)
class DueYear:
    year: int
    reason: str  # Chinese, shown in the run's log and artifacts


def raw_years(raw_dir: Path) -> list[int]:
    """Years under raw/ that hold at least one workbook."""
    if not raw_dir.is_dir():
        return []
    years = [int(p.name) for p in raw_dir.iterdir() if p.is_dir() and p.name.isdigit() and int(p.name) in YEARS]
    return sorted(y for y in years if workbook_paths(raw_dir / str(y)))


def due_years(raw_dir: Path, warehouse: Path) -> list[DueYear]:
    """The years whose workbooks are new or changed since the year's last finished full run."""
    years = raw_years(raw_dir)
    try:
        plans = _plans(warehouse, {year: current_inputs(raw_dir / str(year)) for year in years})
    except duckdb.CatalogException:
        plans = None  # an audit.runs older than the ledger's columns
    due = []
    for year in years:
        plan = plans.get(year) if plans is not None else None
        if plan is None:
            due.append(DueYear(year, "数据仓库中没有输入记录"))
        elif plan and plan[0].no_baseline:
            due.append(DueYear(year, "该年度尚未成功运行过"))
        elif not is_repeat(plan):
            due.append(DueYear(year, _describe(plan)))
    return due


def _plans(warehouse: Path, inputs: dict[int, pl.DataFrame]) -> dict[int, list[Planned]] | None:
    """Each year's plan against its last full run; None when the warehouse has no ledger yet."""
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as con:
        if not has_tables(con, "audit.runs", "audit.run_inputs", "audit.department_status", "raw.departments",
                          "raw.project_forms", "audit.validation_issues"):
            return None
        return {year: change_plan(con, year, current, parameters=None) for year, current in inputs.items()}


def _describe(plan: list[Planned]) -> str:
    words = {"new": "新增", "changed": "修改", "removed": "移除"}
    parts = [f"{words[kind]} {p.name}" for kind in words for p in plan if p.change == kind]
    return "工作簿有变化：" + "，".join(parts)


def settled_workbooks(year_dir: Path, quiet_seconds: float = 1.0) -> list[Path]:
    """The year's workbooks once none has changed for `quiet_seconds`.

    A file still being copied keeps changing size and times; a file last
    written longer ago than the quiet period costs one stat. Opening each file also
    surfaces a lock held by Excel on a shared drive (PermissionError).
    Raises InputsChanging when a workbook changed during the wait.
    """
    paths = workbook_paths(year_dir)
    first = {p: _stat(p) for p in paths}
    youngest = max((changed for *_, changed in first.values()), default=0.0)
    # min(): a share whose clock runs ahead stamps mtimes in the future.
    wait = min(quiet_seconds, quiet_seconds - (time.time() - youngest))
    if wait > 0:
        time.sleep(wait)
        moved = [p.name for p in paths if not os.path.lexists(p) or _stat(p) != first[p]]
        if moved:
            raise InputsChanging(f"工作簿仍在写入（复制或保存中）：{'、'.join(moved)}")
    for path in paths:
        if not_a_plain_input(path):  # a link or a pipe is reported, never opened (a pipe would block)
            continue
        with path.open("rb") as handle:
            handle.read(1)
    return paths


def _stat(path: Path) -> tuple[int, int, int, float]:
    # Copy tools keep the source's mtime, so mtime alone can look old while bytes
    # still arrive; ctime moves with every write on POSIX and is the creation
    # time on Windows, recent for a fresh copy either way.
    stat = path.lstat()  # links are not followed (read.not_a_plain_input)
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, max(stat.st_mtime, stat.st_ctime)
