"""Which years a nightly run must process, and whether a year's workbooks are safe to read yet.

A year is due when its workbooks differ, by name or content, from those the
year's last finished full run read (as recorded in `audit.run_inputs`). Files
are matched by their path within the year folder (`name`): a served nightly
gets absolute paths where `jixiao run` gets relative ones, and two department
folders of CSV files both hold a 基本情况.csv. A touched but unchanged file is
not a change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from jixiao.ledger import input_name, sha256
from jixiao.read import workbook_paths
from jixiao.warehouse import connect

# Years the CLI accepts; other folders under raw/ are not years.
YEARS = range(2000, 2101)

# Runs that read every workbook of their year; 'running', 'failed', 'interrupted'
# and 'skipped' runs prove nothing about what the warehouse holds.
_LAST_FULL_RUNS = """
with finished as (
    select run_id, year, row_number() over (partition by year order by started_at desc) as recency
    from audit.runs
    where status in ('completed', 'partial')
      and coalesce(json_array_length(parameters, '$.departments'), 0) = 0
)
select finished.year, coalesce(inputs.name, regexp_extract(inputs.path, '[^/]+$')), inputs.sha256
from finished
left join audit.run_inputs as inputs using (run_id)
where finished.recency = 1
"""


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


def recorded_inputs(warehouse: Path) -> dict[int, dict[str, str]] | None:
    """{year: {file name: sha256}} read by each year's last finished full run; None without a ledger."""
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as con:
        has_ledger = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'audit' and table_name in ('runs', 'run_inputs')"
        ).fetchall()[0][0] == 2
        if not has_ledger:
            return None
        rows = con.execute(_LAST_FULL_RUNS).fetchall()
    recorded: dict[int, dict[str, str]] = {}
    for year, name, digest in rows:
        files = recorded.setdefault(year, {})
        if name is not None:
            files[name] = digest
    return recorded


def due_years(raw_dir: Path, warehouse: Path) -> list[DueYear]:
    """The years whose workbooks are new or changed since the year's last finished full run."""
    try:
        recorded = recorded_inputs(warehouse)
    except duckdb.CatalogException:
        recorded = None  # an audit.runs older than the ledger's columns
    due = []
    for year in raw_years(raw_dir):
        year_dir = raw_dir / str(year)
        current = {input_name(p, year_dir): sha256(p) for p in workbook_paths(year_dir)}
        if recorded is None:
            due.append(DueYear(year, "数据仓库中没有输入记录"))
        elif year not in recorded:
            due.append(DueYear(year, "该年度尚未成功运行过"))
        elif current != recorded[year]:
            due.append(DueYear(year, _describe(current, recorded[year])))
    return due


def _describe(current: dict[str, str], before: dict[str, str]) -> str:
    parts = [f"新增 {name}" for name in sorted(current.keys() - before.keys())]
    parts += [f"修改 {name}" for name in sorted(n for n in current.keys() & before.keys() if current[n] != before[n])]
    parts += [f"移除 {name}" for name in sorted(before.keys() - current.keys())]
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
        moved = [p.name for p in paths if not p.exists() or _stat(p) != first[p]]
        if moved:
            raise InputsChanging(f"工作簿仍在写入（复制或保存中）：{'、'.join(moved)}")
    for path in paths:
        with path.open("rb") as handle:
            handle.read(1)
    return paths


def _stat(path: Path) -> tuple[int, int, int, float]:
    # Copy tools keep the source's mtime, so mtime alone can look old while bytes
    # still arrive; ctime moves with every write on POSIX and is the creation
    # time on Windows, recent for a fresh copy either way.
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, max(stat.st_mtime, stat.st_ctime)
