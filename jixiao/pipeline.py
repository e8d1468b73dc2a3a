"""The pipeline's steps as plain functions; flows/ wraps each in a Prefect task.

A step works on every department of the year at once: one frame per sheet
across departments, one validation, one load, set-based SQL.
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import polars as pl
from filelock import FileLock, Timeout

from jixiao import kept_reads, read_ahead
from jixiao.bureau_index import read_year, write_year_index
from jixiao.department_status import record_department_status
from jixiao.display import fmt_percent, fmt_score, fmt_wan
from jixiao.export import export_year
from jixiao.extract import Department
from jixiao.findings import Finding
from jixiao.frames import ReadBatch, read_chunk_into
from jixiao.ledger import (
    code_version,
    input_fingerprints,
    inputs_unchanged,
    parameters_json,
)
from jixiao.outputs import FORMATS, department_files, draw_chunk
from jixiao.parallel import dask_chunks, dask_each_chunk, each_chunk, start_chunks
from jixiao.read import department_inputs
from jixiao.safe_text import shown_name
from jixiao.rulesets import RuleSets, load_rulesets
from jixiao.settings import Settings
from jixiao.validate import schema_findings, score_weight_findings
from jixiao.validation_report import write_validation_report as write_validation_pages
from jixiao.warehouse import (
    WarehouseLocked,
    append,
    connect,
    ensure_tables,
    replace_partitions,
)

REJECTED_REASON = "该部门工作簿存在错误，整体未载入，请先修正错误"


@dataclass
class CarriedRejection(Department):
    """A rejected input the run does not read again: its bytes, the code and the rule set are those of
    the run `from_run_id` that rejected it (sql/rejected_unchanged.sql). It holds that run's findings,
    which the run reports as its own; it has no rows, so validation and the load pass it by."""

    from_run_id: str = ""


@dataclass
class Batch:
    """A year's departments after validation: what loads and what does not."""

    year: int
    departments: list[Department]
    frames: dict[str, pl.DataFrame]  # every department with a 部门编码; the load takes the accepted ones
    findings: list[Finding]
    quarantine: list[dict] = field(default_factory=list)
    ignored_sheets: list[tuple[str, str]] = field(default_factory=list)

    @property
    def accepted(self) -> list[Department]:
        return [d for d in self.departments if not d.has_errors]

    @property
    def rejected(self) -> list[Department]:
        return [d for d in self.departments if d.has_errors]

    @property
    def carried(self) -> list[CarriedRejection]:
        return [d for d in self.departments if isinstance(d, CarriedRejection)]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    year: int
    loaded: tuple[str, ...]
    rejected: tuple[str, ...]  # "file (code)"
    errors: int
    warnings: int
    mismatches: int
    reports: tuple[str, ...]
    warehouse: str
    skipped: bool = False  # inputs and code unchanged since the last finished run
    carried: tuple[str, ...] = ()  # of `rejected`: unchanged since the run that rejected them, not read again

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def start_run(settings: Settings, run_id: str, *, force: bool = False) -> bool:
    """Record the run and what it reads; False when nothing changed since the last finished run.

    Runs left 'running' by a process that died are marked 'interrupted' here:
    the caller holds the writer lock, so no other run can still be going.
    """
    inputs = input_fingerprints(settings.year_dir).with_columns(pl.lit(run_id).alias("run_id"))
    parameters = parameters_json(settings)
    now = datetime.now(timezone.utc)
    with connect(settings.warehouse) as con:
        ensure_tables(con, settings.sql_dir)
        con.execute("begin transaction")
        con.execute("update audit.runs set status = 'interrupted' where status = 'running'")
        con.execute(
            "insert into audit.runs (run_id, started_at, year, status, parameters, jixiao_version, code_version, forced) "
            "values (?, ?, ?, 'running', ?, ?, ?, ?)",
            [run_id, now, settings.year, parameters, version("jixiao"), code_version(), force],
        )
        append(con, "audit.run_inputs", inputs)
        unchanged = not force and inputs_unchanged(con, run_id, settings.year, parameters)
        if unchanged:
            con.execute("update audit.runs set status = 'skipped', finished_at = ? where run_id = ?",
                        [datetime.now(timezone.utc), run_id])
        con.execute("commit")
    return not unchanged


@contextmanager
def stage(settings: Settings, run_id: str, name: str) -> Iterator[dict]:
    """Time one stage of a run into audit.run_stages; the body may set `rows`."""
    entry = {"run_id": run_id, "stage": name, "started_at": datetime.now(timezone.utc), "rows": None}
    clock = time.perf_counter()
    yield entry
    entry["seconds"] = round(time.perf_counter() - clock, 6)
    with connect(settings.warehouse) as con:
        append(con, "audit.run_stages", pl.DataFrame([entry], schema=_STAGE_SCHEMA))


_STAGE_SCHEMA = {"run_id": pl.String, "stage": pl.String, "started_at": pl.Datetime("us", "UTC"),
                 "rows": pl.Int64, "seconds": pl.Float64}


@contextmanager
def writer_lock(settings: Settings, wait_seconds: float = 600.0) -> Iterator[None]:
    """One run per warehouse at a time: a second run waits (bounded) for the first."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.warehouse) + ".lock")
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise WarehouseLocked(
            f"另一个 jixiao 运行正在写入数据仓库 {settings.warehouse}，已等待 {wait_seconds:.0f} 秒仍未结束；"
            f"请稍后再试 (lock file {lock.lock_file})"
        ) from None
    try:
        yield
    finally:
        lock.release()


def skipped_run(settings: Settings, run_id: str) -> RunSummary:
    return RunSummary(run_id, settings.year, (), (), 0, 0, 0, (), str(settings.warehouse), skipped=True)


def read_departments(settings: Settings, run_id: str | None = None) -> ReadBatch:
    """The year's inputs read into memory (for callers outside a run; a run keeps them on disk, read_into)."""
    with tempfile.TemporaryDirectory(prefix="jixiao-read-") as tmp:
        kept, _ = read_into(settings, run_id, Path(tmp) / "read")
        return kept_reads.load(kept)


def read_into(settings: Settings, run_id: str | None, folder: Path) -> tuple[Path, int]:
    """Every workbook (or CSV folder) of the year, read and typed, kept in `folder` (jixiao/kept_reads.py);
    the --dept filter applies to 部门编码. A file that cannot be read at all is a department without a code,
    rejected with its finding. Returns the folder and how many inputs were read.

    Without --force, an input unchanged since it was loaded is left out (its data and reports stand),
    and one unchanged since it was rejected comes back unread, as a CarriedRejection with its findings."""
    unchanged, carried = inputs_to_skip(settings, run_id)
    inputs = department_inputs(settings.year_dir)
    skip = unchanged.keys() | {d.file for d in carried}
    items = [(i, p, settings.year) for i, p in enumerate(inputs) if shown_name(p.name) not in skip]
    scratch = kept_reads.scratch(folder)
    each = dask_each_chunk if settings.runner == "dask" else each_chunk
    read_chunk = functools.partial(read_chunk_into, scratch)  # each chunk's rows go straight to disk
    to_read = len(items)
    departments, items = read_ahead.take(items, scratch)  # what `jixiao run` read while it started
    ahead = bool(departments)
    if ahead:
        print(f"其中 {len(departments)} 个工作簿已在运行启动期间预读")
    departments += [d for part in each(read_chunk, items) for d in part]
    # A 部门编码 used twice is only seen when both workbooks are read: a workbook left unread (loaded
    # or rejected, unchanged since) whose code a workbook read now also has is read again, to be
    # flagged with it, as a run that read every workbook would.
    read_codes = {d.dept_code for d in departments if d.dept_code}
    order = {shown_name(p.name): i for i, p in enumerate(inputs)}  # the year folder's, as when every input is read
    clashing = sorted({name for name, code in unchanged.items() if code in read_codes}
                      | {d.file for d in carried if d.dept_code in read_codes}, key=order.__getitem__)
    paths = {shown_name(p.name): p for p in inputs}
    again = [(order[name], paths[name], settings.year) for name in clashing]
    if again:
        departments += [d for part in each(read_chunk, again) for d in part]
        carried = [d for d in carried if d.dept_code not in read_codes]
    if left := len(unchanged.keys() - set(clashing)):
        print(f"{left} 个工作簿自上次载入以来未变化，沿用已有数据与报告")
    if carried:
        print(f"{len(carried)} 个被拒收的工作簿自上次校验以来未修改，未重新读取，沿用上次的校验问题")
    departments = sorted(departments + carried, key=lambda d: order.get(d.file, len(order)))
    only = None
    if settings.departments:
        wanted = set(settings.departments)
        departments = [d for d in departments if d.dept_code in wanted]
        only = {d.file for d in departments}
    # Rows read ahead are on disk out of input order: the kept read puts them back in it.
    kept = kept_reads.keep(departments, scratch, folder, only_files=only, positions=order if ahead else None)
    return kept, to_read + len(again)


def inputs_to_skip(settings: Settings, run_id: str | None = None) -> tuple[dict[str, str], list[CarriedRejection]]:
    """The year's inputs not to read again, with one look at the warehouse: the names of those whose
    loaded data came from these very bytes, each with its 部门编码 (sql/unchanged_inputs.sql), and
    those that the last run to read them rejected, with this code and rule set, each with that run's
    findings (sql/rejected_unchanged.sql)."""
    if settings.force or not settings.warehouse.exists():
        return {}, []
    formats = sorted(settings.formats if settings.formats is not None else FORMATS)
    params = {"year": settings.year, "code_version": code_version(), "ruleset": settings.ruleset}
    with connect(settings.warehouse) as con:
        ensure_tables(con, settings.sql_dir)
        con.register("current_inputs", _current_inputs(con, settings, run_id).to_arrow())
        unchanged = dict(con.execute((settings.sql_dir / "unchanged_inputs.sql").read_text(encoding="utf-8"),
                                     {**params, "formats": formats}).fetchall())
        carried = con.sql((settings.sql_dir / "rejected_unchanged.sql").read_text(encoding="utf-8"),
                          params=params).pl().filter(~pl.col("file").is_in(list(unchanged)))
        if carried.height == 0:
            return unchanged, []
        con.register("carried", carried.to_arrow())
        rows = con.sql("select issues.* from audit.validation_issues as issues "
                       "semi join carried on issues.run_id = carried.run_id and issues.file = carried.file "
                       "order by issues.file, issues.severity, issues.sheet, issues.cell, issues.rule").pl()
    findings: dict[str, list[Finding]] = {}
    for r in rows.iter_rows(named=True):
        findings.setdefault(r["file"], []).append(Finding(
            r["severity"], r["rule"], r["message"], r["file"], r["sheet"], r["cell"], r["value"], r["dept_code"]))
    return unchanged, [
        CarriedRejection(r["file"], settings.year, r["dept_code"], findings=findings[r["file"]],
                         info={"dept_name": r["dept_name"]} if r["dept_name"] else {}, from_run_id=r["run_id"])
        for r in carried.iter_rows(named=True)
    ]


def _current_inputs(con, settings: Settings, run_id: str | None) -> pl.DataFrame:
    """(name, sha256) of today's inputs: the run's own ledger rows hold them (start_run wrote them);
    only a caller outside a run hashes the files here."""
    if run_id is None:
        return input_fingerprints(settings.year_dir).select("name", "sha256")
    return con.sql("select name, sha256 from audit.run_inputs where run_id = $run", params={"run": run_id}).pl()


def check_departments(read: ReadBatch | list[Department], year: int, rulesets: RuleSets, ruleset: str | None) -> Batch:
    """Validate what was read (a ReadBatch, or departments as read_department gives them) across departments."""
    if not isinstance(read, ReadBatch):
        read = ReadBatch.of(list(read))
    # Carried rejections were checked by the run that read them; the batch still reports them.
    everything = read.departments
    departments = [d for d in everything if not isinstance(d, CarriedRejection)]
    _flag_duplicate_codes(departments)
    for dept in departments:
        dept.info["ruleset"] = ruleset or dept.info.get("ruleset") or rulesets.default
        if dept.info["ruleset"] not in rulesets:
            dept.error("basic.ruleset_unknown",
                       f"评分规则“{dept.info['ruleset']}”不存在，可用：{'、'.join(rulesets.descriptions)}",
                       dept.basic_sheet or "基本情况", dept.basic_cells.get("ruleset"))
    typed = [d for d in departments if d.dept_code is not None]
    frames = {name: frame.filter(pl.col("dept_code").is_not_null()) if frame["dept_code"].null_count() else frame
              for name, frame in read.frames.items()}
    chosen = pl.DataFrame({"src_file": [d.file for d in typed], "ruleset": [d.info["ruleset"] for d in typed]},
                          schema={"src_file": pl.String, "ruleset": pl.String})
    frames["departments"] = frames["departments"].drop("ruleset").join(chosen, on="src_file", how="left")
    columns = {(d.file, sheet): cols for d in typed for sheet, cols in d.columns.items()}
    by_file = {d.file: d for d in departments}
    for finding in schema_findings(frames, columns, typed) + score_weight_findings(frames["scores"], columns):
        by_file[finding.file].findings.append(finding)
    # This run's finds; load_batch copies a carried rejection's findings (and quarantined rows) in SQL.
    # frames: the load takes the accepted departments' rows (not a copy: a province's are large).
    batch = Batch(year, everything, frames, [f for d in departments for f in d.findings])
    for dept in departments:
        batch.quarantine.extend({**q, "year": year, "dept_code": dept.dept_code} for q in dept.quarantined)
    batch.quarantine.extend(_quarantine_rejected(read.frames, {d.file for d in departments if d.has_errors}, year))
    return batch


def _flag_duplicate_codes(departments: list[Department]) -> None:
    counts = Counter(d.dept_code for d in departments if d.dept_code)
    for dept in departments:
        if counts[dept.dept_code] > 1:
            others = "、".join(d.file for d in departments if d.dept_code == dept.dept_code and d is not dept)
            dept.error("basic.dept_code_duplicate", f"部门编码与其他工作簿重复（{others}），同一部门每年只能提交一个工作簿",
                       dept.basic_sheet or "基本情况", dept.basic_cells.get("dept_code"), dept.dept_code)


def _quarantine_rejected(frames: dict[str, pl.DataFrame], rejected: set[str], year: int) -> list[dict]:
    """Rejected departments' rows are kept, with the reason, rather than dropped."""
    rows = []
    for name, frame in frames.items():
        if name == "departments" or not rejected:
            continue  # its facts are the 基本情况 findings' subject, not rows of a table
        for row in frame.filter(pl.col("src_file").is_in(rejected)).iter_rows(named=True):
            cells = {k: str(v) for k, v in row.items() if k not in _SOURCE_COLUMNS and v is not None}
            rows.append({"year": year, "dept_code": row["dept_code"], "file": row["src_file"],
                         "sheet": row["src_sheet"], "row": row["src_row"], "rule": "department.rejected",
                         "reason": REJECTED_REASON, "cells": json.dumps(cells, ensure_ascii=False)})
    return rows


_SOURCE_COLUMNS = frozenset({"year", "dept_code", "src_file", "src_sheet", "src_row"})


def load_batch(batch: Batch, settings: Settings, run_id: str, rulesets: RuleSets) -> list[Finding]:
    """Replace the accepted department-years and record every finding; returns reconciliation warnings.
    The batch's frames are consumed (emptied) by the load."""
    partitions = pl.DataFrame(
        {"year": [batch.year] * len(batch.accepted), "dept_code": [d.dept_code for d in batch.accepted]},
        schema={"year": pl.Int32, "dept_code": pl.String},
    )
    with connect(settings.warehouse) as con:
        if partitions.height:
            replace_partitions(con, settings.sql_dir, partitions=partitions, frames=batch.frames,
                               rules=rulesets.rules, run_id=run_id)
        mismatches = reconciliation_findings(con, batch.year, partitions["dept_code"].to_list())
        findings = batch.findings + mismatches
        con.execute("begin transaction")
        append(con, "audit.validation_issues", _findings_frame(findings, run_id, batch.year))
        append(con, "audit.quarantine", _quarantine_frame(batch.quarantine, run_id))
        if batch.carried:
            carried = pl.DataFrame({"file": [d.file for d in batch.carried],
                                    "from_run_id": [d.from_run_id for d in batch.carried]}, schema=_CARRIED_SCHEMA)
            con.register("carried", carried.with_columns(pl.lit(run_id).alias("run_id")).to_arrow())
            con.execute((settings.sql_dir / "rejected_carried.sql").read_text(encoding="utf-8"))
            con.unregister("carried")
        con.execute("commit")
    return mismatches


_CARRIED_SCHEMA = {"file": pl.String, "from_run_id": pl.String}


def reconciliation_findings(con, year: int, dept_codes: list[str]) -> list[Finding]:
    if not dept_codes:
        return []
    rows = con.sql(
        "select * from audit.reconciliation where year = ? and list_contains(?, dept_code) and status = 'mismatch' "
        "order by dept_code, file, sheet, cell, figure",
        params=[year, dept_codes],
    ).pl().to_dicts()
    return [
        Finding("warning", f"reconcile.{r['figure_key']}",
                f"“{r['figure']}”填报为 {_shown(r['kind'], r['reported_value'])}，按明细计算为 "
                f"{_shown(r['kind'], r['computed_value'])}，两者不一致（已采用计算值）",
                r["file"], r["sheet"], r["cell"], r["reported_text"], r["dept_code"])
        for r in rows
    ]


def _shown(kind: str, value) -> str:
    if kind == "rate":
        return fmt_percent(value)
    if kind == "amount":
        return fmt_wan(value) + " 万元"
    if kind == "count":
        return str(int(value))
    return fmt_score(value)


def _findings_frame(findings: list[Finding], run_id: str, year: int) -> pl.DataFrame:
    if not findings:
        return pl.DataFrame()
    rows = [{**f.as_row(), "run_id": run_id, "year": year} for f in findings]
    schema = {key: pl.Int32 if key == "year" else pl.String for key in rows[0]}
    return pl.DataFrame(rows, schema=schema)


_REPORT_QUERIES = {
    "indicators": "select * from mart.indicator_completion where {part} order by dept_code, indicator_no",
    "projects": "select * from mart.project_spending where {part} order by dept_code, project_no",
    "tasks": "select * from mart.task_spending where {part} order by dept_code, task_no",
    "scores": "select * from mart.score_sheet where {part} order by dept_code, item_no",
    "summary": "select * from mart.department_summary where {part}",
    "reconciliation": "select * from audit.reconciliation where {part} "
                      "order by dept_code, status <> 'mismatch', file, sheet, figure",
    "findings": "select * from audit.validation_issues where run_id = $run and {part} "
                "order by dept_code, severity, file, sheet, rule",
    "task_outcomes": "select * from mart.task_outcomes where {part} order by dept_code, task_no",
    "profile": "select * from mart.department_profile where {part}",
}
_PARTITION = "year = $year and list_contains($depts, dept_code)"


# Departments whose report data is queried and drawn together: memory stays flat past this.
DRAW_BLOCK = 1000


def _report_frames(con, year: int, codes: list[str], run_id: str) -> dict[str, dict[str, pl.DataFrame]]:
    """One query per report table for these departments, split by department (and an empty frame)."""
    by_table = {}
    for name, query in _REPORT_QUERIES.items():
        params = {"year": year, "depts": codes, **({"run": run_id} if "$run" in query else {})}
        frame = con.sql(query.format(part=_PARTITION), params=params).pl()
        by_table[name] = {key[0]: part for key, part in frame.partition_by("dept_code", as_dict=True).items()}
        by_table[name]["__empty__"] = frame.clear()
    return by_table


def draw_reports(settings: Settings, batch: Batch, run_id: str, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """The report's tables and sentences in `formats`, one folder per loaded department, and the year's index."""
    if not formats:
        return []
    accepted = batch.accepted
    paths: list[Path] = []
    warnings: list[str] = []
    drawing = None

    def collect(results) -> None:
        paths.extend(p for written, _ in results for p in written)
        warnings.extend(w for _, ws in results for w in ws)

    # A block of departments at a time, so a province's reports never sit in memory at once.
    for start in range(0, len(accepted), DRAW_BLOCK):
        if drawing is not None:
            collect(drawing())
        block = accepted[start:start + DRAW_BLOCK]
        with connect(settings.warehouse) as con:
            by_table = _report_frames(con, batch.year, [d.dept_code for d in block], run_id)
        jobs = [
            (settings.report_dir(dept.dept_code), f"数据来源：{dept.file}；运行编号 {run_id}",
             {name: parts.get(dept.dept_code, parts["__empty__"]) for name, parts in by_table.items()}, tuple(formats))
            for dept in block
        ]
        del by_table
        # Drawing (pictures take seconds) happens with the warehouse closed, over every core for a district.
        drawing = _start_drawing(settings, jobs)
    try:
        if "html" in formats:
            # Drawn here while the workers draw the last departments: the links to their files are known ahead.
            with connect(settings.warehouse) as con:
                year_rows = read_year(con, batch.year)
            rejected = [{"dept_code": d.dept_code, "dept_name": d.info.get("dept_name"), "file": d.file,
                         "errors": sum(f.severity == "error" for f in d.findings)} for d in batch.rejected]
            writing = {d.dept_code: department_files(d.dept_code, batch.year, formats).values() for d in accepted}
            # A run writes its validation page beside the drawing (flows/year.py): it may not be on disk yet.
            index = write_year_index(year_rows, settings.out_dir, batch.year, rejected, f"运行编号 {run_id}", writing,
                                     validation_written=True)
    finally:
        if drawing is not None:  # waited for even when the index failed: a pool started for it stops here
            collect(drawing())
    if "html" in formats:
        paths.append(index)
    for warning in dict.fromkeys(warnings):
        print(f"警告：{warning}")  # the flow logs prints; the CLI repeats it in its summary
    return paths


def _start_drawing(settings: Settings, jobs: list) -> Callable[[], list[tuple[list[Path], list[str]]]]:
    """Departments' reports begun on the workers (chunks of 25); the call returned waits for them."""
    if settings.runner == "dask":
        drawn = dask_chunks(draw_chunk, jobs, chunk=25)
        return lambda: drawn
    finish = start_chunks(draw_chunk, jobs, chunk=25)
    return lambda: [result for part in finish() for result in part]


def write_validation_report(settings: Settings, batch: Batch, run_id: str) -> list[Path]:
    """Mark rejected departments whose last good data stays in the marts as stale
    (audit.department_status), then write the run's validation report: OUT/<year>/validation.html and .csv."""
    with connect(settings.warehouse) as con:
        # A carried rejection was not read: its status stays as the run that read it left it.
        read = [d for d in batch.departments if not isinstance(d, CarriedRejection)]
        record_department_status(con, batch.year, read, run_id, datetime.now(timezone.utc))
        findings = con.sql("select * from audit.validation_issues where run_id = ?", params=[run_id]).pl()
        statuses = con.sql("select * from audit.department_status where year = ?", params=[batch.year]).pl()
    return write_validation_pages(settings.out_dir, batch.year, run_id, batch.departments, findings, statuses)


def _quarantine_frame(rows: list[dict], run_id: str) -> pl.DataFrame:
    schema = {"year": pl.Int32, "dept_code": pl.String, "file": pl.String, "sheet": pl.String, "row": pl.Int32,
              "rule": pl.String, "reason": pl.String, "cells": pl.String}
    return pl.DataFrame(rows, schema=schema).with_columns(pl.lit(run_id).alias("run_id"))


def finish_run(settings: Settings, run_id: str, batch: Batch, mismatches: list[Finding], reports: list[Path]) -> RunSummary:
    loaded = tuple(sorted(d.dept_code for d in batch.accepted))
    rejected = tuple(f"{d.file}（{d.dept_code or '部门编码未知'}）" for d in batch.rejected)
    with connect(settings.warehouse) as con:
        con.execute(
            "update audit.runs set finished_at = ?, status = ?, departments_loaded = ?, departments_rejected = ? where run_id = ?",
            [datetime.now(timezone.utc), "partial" if rejected else "completed", len(loaded), len(rejected), run_id],
        )
    findings = batch.findings + mismatches + [f for d in batch.carried for f in d.findings]
    return RunSummary(
        run_id, settings.year, loaded, rejected,
        sum(f.severity == "error" for f in findings), sum(f.severity == "warning" for f in findings),
        len(mismatches), tuple(str(p) for p in reports), str(settings.warehouse),
        carried=tuple(f"{d.file}（{d.dept_code or '部门编码未知'}）" for d in batch.carried),
    )


def export_marts(settings: Settings, batch: Batch) -> list[Path]:
    """Parquet copies of the year's marts, every department of it; nothing when the run loaded none."""
    if not batch.accepted:
        return []
    with connect(settings.warehouse, read_only=False) as con:
        return export_year(con, settings.parquet_dir, batch.year)


def fail_run(settings: Settings, run_id: str) -> None:
    with connect(settings.warehouse) as con:
        con.execute("update audit.runs set finished_at = ?, status = 'failed' where run_id = ?",
                    [datetime.now(timezone.utc), run_id])


__all__ = [
    "Batch", "CarriedRejection", "ReadBatch", "RunSummary", "check_departments", "draw_reports", "fail_run", "finish_run", "load_batch", "load_rulesets",
    "new_run_id", "read_departments", "start_run",
]
