"""The pipeline's steps as plain functions; flows/ wraps each in a Prefect task.

A step works on every department of the year at once: one frame per sheet
across departments, one validation, one load, set-based SQL.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import polars as pl
from filelock import FileLock, Timeout

from jixiao.check.rulesets import RuleSets, load_rulesets
from jixiao.domain import Department, Finding, ProjectForm
from jixiao.families import raw_tables, read_chunk
from jixiao.families.department import DEPARTMENT as FAMILY
from jixiao.families.project import PROJECT
from jixiao.ingest.frames import ReadBatch
from jixiao.ingest.read import department_inputs
from jixiao.ingest.safe_text import shown_name
from jixiao.load.changes import change_plan, current_inputs, is_repeat
from jixiao.load.department_status import record_department_status
from jixiao.load.export import export_year
from jixiao.load.ledger import code_version, input_fingerprints, parameters_json, rules_file_sha256
from jixiao.load.staging import Staging, staging_folder, staging_root
from jixiao.load.warehouse import (
    WarehouseLocked,
    append,
    connect,
    ensure_tables,
    has_tables,
    replace_partitions,
)
from jixiao.parallel import map_chunks, pool_for
from jixiao.publish.bureau_index import read_year, write_year_index
from jixiao.publish.display import fmt_percent, fmt_score, fmt_wan
from jixiao.publish.outputs import FORMATS
from jixiao.publish.project_report import write_year as write_project_year
from jixiao.publish.validation_report import write_validation_report as write_validation_pages
from jixiao.settings import Settings, sql_file

REJECTED_REASON = "该部门工作簿存在错误，整体未载入，请先修正错误"


class Batch:
    """A year's inputs as read and checked: their facts and findings in memory, their rows staged on disk.

    Not a dataclass, for the reason ReadBatch is not one (jixiao/ingest/frames.py)."""

    def __init__(self, year: int, staging: Staging) -> None:
        self.year = year
        self.staging = staging  # every department with a 部门编码 and form with an identity; the load takes the accepted
        self.departments: list[Department] = []
        self.forms: list[ProjectForm] = []  # project forms
        self.findings: list[Finding] = []  # the year's, once check_year has run
        self.files = 0  # input files read
        self.unchanged_rejected: list[str] = []  # inputs not read: their last read rejected them, and would again

    def add(self, read: ReadBatch) -> None:
        """A checked block: its rows and each input's quarantined rows staged, the inputs kept without
        what only reading and checking needed (a province's inputs stay in memory until the run ends)."""
        self.staging.add(read.frames)
        read.frames = {}  # let go before the next block is read: the caller still holds `read`
        quarantined = [{**q, "year": self.year, "dept_code": d.dept_code} for d in read.departments for q in d.quarantined]
        quarantined += [{**q, "year": self.year, "project_key": f.project_key} for f in read.forms for q in f.quarantined]
        self.staging.put(QUARANTINE, _quarantine_frame(quarantined))
        for item in (*read.departments, *read.forms):
            item.settle()
        self.departments.extend(read.departments)
        self.forms.extend(read.forms)

    def quarantined_rows(self) -> pl.DataFrame:
        """The rows staged for audit.quarantine (until the load, which removes the staging)."""
        return self.staging.scan(QUARANTINE, _QUARANTINE_SCHEMA).collect()

    @property
    def accepted(self) -> list[Department]:
        return [d for d in self.departments if not d.has_errors]

    @property
    def rejected(self) -> list[Department]:
        return [d for d in self.departments if d.has_errors]

    @property
    def accepted_forms(self) -> list[ProjectForm]:
        return [f for f in self.forms if not f.has_errors]

    @property
    def rejected_forms(self) -> list[ProjectForm]:
        return [f for f in self.forms if f.has_errors]


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
    forms_loaded: int = 0  # project forms
    forms_rejected: tuple[str, ...] = ()  # "file › sheet（project）"
    unchanged_rejected: tuple[str, ...] = ()  # inputs left unread, rejected as their last read left them

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected or self.forms_rejected or self.unchanged_rejected else 0


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def start_run(settings: Settings, run_id: str, *, force: bool = False) -> bool:
    """Record the run and what it reads; False when nothing changed since the last finished run.

    Runs left 'running' by a process that died are marked 'interrupted' here:
    the caller holds the writer lock, so no other run can still be going.
    """
    inputs = input_fingerprints(settings.year_dir).with_columns(pl.lit(run_id).alias("run_id"))
    parameters = parameters_json(settings)
    now = datetime.now(UTC)
    with connect(settings.warehouse) as con:
        ensure_tables(con, settings.sql_dir)
        con.execute("begin transaction")
        con.execute(sql_file("ledger/interrupt_dead_runs.sql"))
        _remove_ended_staging(con, settings.warehouse)
        con.execute(sql_file("ledger/start_run.sql"), {
            "run_id": run_id, "started_at": now, "year": settings.year, "parameters": parameters,
            "jixiao_version": version("jixiao"), "code_version": code_version(), "forced": force})
        append(con, "audit.run_inputs", inputs)
        unchanged = not force and is_repeat(change_plan(con, settings.year, inputs, parameters=parameters))
        if unchanged:
            _end_run(con, run_id, "skipped")
        con.execute("commit")
    return not unchanged


@contextmanager
def stage(settings: Settings, run_id: str, name: str) -> Iterator[dict]:
    """Time one stage of a run into audit.run_stages; the body may set `rows`."""
    entry = {"run_id": run_id, "stage": name, "started_at": datetime.now(UTC), "rows": None}
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


class UnknownDepartments(ValueError):
    """--dept names a 部门编码 no input of the year has: a usage error, nothing is loaded."""


# Inputs read, checked and staged together: what a run holds of its rows at once (about 35 MB of frames
# for 2,000 department workbooks, 10 MB for 2,000 project forms), however many inputs the year has.
# 4,000 held 30 MB more at the peak for no time saved (10,000 forms and 1,000 departments, read in 40 s).
BLOCK = 2000


def read_inputs(settings: Settings, rulesets: RuleSets, run_id: str | None = None) -> Batch:
    """Every workbook (or CSV folder) of the year that the change plan says to read, read, typed and
    checked input by input, a block of inputs at a time, its rows staged on disk for the load
    (jixiao/load/staging.py); checks across the year's inputs are check_year's. The --dept filter applies
    to 部门编码. A file that cannot be read at all is a department without a code, rejected with its finding.

    Without --force, an input whose loaded data came from these very bytes is left out (its data and
    reports stand), and so is one whose last read rejected it for reasons of its own (its findings
    stand), unless a workbook read now has its 部门编码: then it is read too, to be flagged
    with that one (basic.dept_code_duplicate), as a run that read every workbook would."""
    inputs = {shown_name(p.name): p for p in department_inputs(settings.year_dir)}
    plan = {} if settings.force else standing_inputs(settings, run_id)
    standing = {name: code for name, (code, _) in plan.items()}
    batch = Batch(settings.year, Staging(staging_folder(settings.warehouse, run_id or new_run_id()), raw_tables()))
    try:
        codes = _read(settings, rulesets, [name for name in inputs if name not in standing], inputs, batch)
        clashing = [name for name, code in standing.items() if code in codes and name in inputs]
        if clashing:
            codes |= _read(settings, rulesets, clashing, inputs, batch)
            order = {name: i for i, name in enumerate(inputs)}
            batch.departments.sort(key=lambda d: order.get(d.file, len(order)))
        batch.unchanged_rejected = sorted(name for name, (_, rejected) in plan.items()
                                          if rejected and name in inputs and name not in clashing)
        if left := len(standing.keys() & inputs.keys()) - len(clashing) - len(batch.unchanged_rejected):
            print(f"{left} 个工作簿自上次载入以来未变化，沿用已有数据与报告")
        if batch.unchanged_rejected:
            print(f"{len(batch.unchanged_rejected)} 个被拒收的工作簿自上次读取以来未变化，未重新读取，沿用上次的校验问题")
        if unknown := sorted(set(settings.departments) - codes - set(standing.values())):
            raise UnknownDepartments(
                f"--dept 无效：{settings.year} 年的工作簿中没有部门编码 {'、'.join(unknown)}；"
                f"请核对部门编码（见各工作簿“基本情况”中的部门编码）")
    except BaseException:
        batch.staging.remove()
        raise
    return batch


def _read(settings: Settings, rulesets: RuleSets, names: list[str], inputs: dict[str, Path], batch: Batch) -> set[str]:
    """These inputs read (over the run's pool) into `batch`, a block at a time; returns the 部门编码 read."""
    items = [(inputs[name], settings.year) for name in names]
    wanted = set(settings.departments)
    codes: set[str] = set()
    with pool_for(settings.runner, len(items)) as pool:
        for start in range(0, len(items), BLOCK):
            read = ReadBatch.joined(map_chunks(pool, read_chunk, items[start:start + BLOCK]))
            batch.files += read.files
            codes |= {d.dept_code for d in read.departments if d.dept_code}
            if wanted:  # 部门编码 name department workbooks: a --dept run reads no project forms
                read = read.only({d.file for d in read.departments if d.dept_code in wanted})
            batch.add(check_inputs(read, settings.year, rulesets, settings.ruleset))
    return codes


def standing_inputs(settings: Settings, run_id: str | None = None) -> dict[str, tuple[str | None, bool]]:
    """{input: (部门编码, rejected)} of the year's inputs that reading again would change nothing for
    (sql/change_plan.sql): their department's loaded data came from these very bytes, by this code, rule
    set and formats; or (rejected) their last read, of these bytes by this code and rules, rejected them."""
    if not settings.warehouse.exists():
        return {}
    formats = settings.formats if settings.formats is not None else FORMATS
    with connect(settings.warehouse) as con:
        ensure_tables(con, settings.sql_dir)
        current = _current_inputs(con, settings, run_id)
        plan = change_plan(con, settings.year, current, parameters=None, ruleset=settings.ruleset,
                           rules_file=rules_file_sha256(settings), formats=formats)
    return {p.src_file: (p.dept_code, p.stands_rejected) for p in plan if p.change != "removed" and not p.must_read}


def _current_inputs(con, settings: Settings, run_id: str | None) -> pl.DataFrame:
    """(name, sha256) of today's inputs: the run's own ledger rows hold them (start_run wrote them);
    only a caller outside a run hashes the files here."""
    if run_id is None:
        return current_inputs(settings.year_dir)
    return con.sql("select name, sha256 from audit.run_inputs where run_id = $run", params={"run": run_id}).pl()


def check_departments(read: ReadBatch | list[Department], year: int, rulesets: RuleSets, ruleset: str | None,
                      staging: Staging) -> Batch:
    """Inputs already read (a ReadBatch, or departments as read_department gives them) checked as a run
    checks them, their rows staged in `staging`: input by input, then across them."""
    if not isinstance(read, ReadBatch):
        read = ReadBatch.of(list(read))
    batch = Batch(year, staging)
    batch.add(check_inputs(read, year, rulesets, ruleset))
    return check_year(batch)


def check_inputs(read: ReadBatch, year: int, rulesets: RuleSets, ruleset: str | None) -> ReadBatch:
    """Each input's own checks (the rule set it names, its sheets' schemas and sums), over a block's frames
    at once; returns the block with the frames the load takes (a rule set chosen per input, identities set)."""
    departments = read.departments
    chosen_for = {family: ruleset if ruleset and rulesets.families.get(ruleset) == family else None
                  for family in ("department", "project")}
    for dept in departments:
        dept.info["ruleset"] = chosen_for["department"] or dept.info.get("ruleset") or rulesets.default
        if rulesets.families.get(dept.info["ruleset"], "department") != "department":
            dept.error("basic.ruleset_family",
                       f"评分规则“{dept.info['ruleset']}”用于项目支出绩效自评表，不能用于部门整体支出绩效自评；"
                       f"可用：{'、'.join(n for n, f in rulesets.families.items() if f == 'department')}",
                       dept.basic_sheet or "基本情况", dept.basic_cells.get("ruleset"))
        elif dept.info["ruleset"] not in rulesets:
            dept.error("basic.ruleset_unknown",
                       f"评分规则“{dept.info['ruleset']}”不存在，可用：{'、'.join(rulesets.descriptions)}",
                       dept.basic_sheet or "基本情况", dept.basic_cells.get("ruleset"))
    typed = [d for d in departments if d.dept_code is not None]
    frames = {name: frame.filter(pl.col("dept_code").is_not_null())
              if name in FAMILY.tables and frame["dept_code"].null_count() else frame
              for name, frame in read.frames.items()}
    chosen = pl.DataFrame({"src_file": [d.file for d in typed], "ruleset": [d.info["ruleset"] for d in typed]},
                          schema={"src_file": pl.String, "ruleset": pl.String})
    frames["departments"] = frames["departments"].drop("ruleset").join(chosen, on="src_file", how="left")
    columns = {(d.file, sheet): cols for d in typed for sheet, cols in d.columns.items()}
    by_file = {d.file: d for d in departments}
    for finding in FAMILY.cross_checks(frames, columns, typed):
        by_file[finding.file].findings.append(finding)
    _check_forms(read, frames, chosen_for["project"] or rulesets.default_for("project"))
    return ReadBatch(departments, frames, read.forms)


def _check_forms(read: ReadBatch, frames: dict[str, pl.DataFrame], ruleset: str) -> None:
    """Project forms' own checks (weights that add up, the schemas); each form scored by `ruleset`."""
    forms = read.forms
    identified = [f for f in forms if f.project_key is not None]
    for name in PROJECT.tables:  # filtered only where needed: a filter copies the frames
        if frames[name]["project_key"].null_count():
            frames[name] = frames[name].filter(pl.col("project_key").is_not_null())
    frames["project_forms"] = frames["project_forms"].with_columns(pl.lit(ruleset).alias("ruleset"))
    by_form = {(f.file, f.sheet): f for f in forms}
    for finding in PROJECT.cross_checks(frames, {}, identified):
        by_form[(finding.file, finding.sheet)].findings.append(finding)


def check_year(batch: Batch) -> Batch:
    """Checks across the year's inputs (two inputs of one identity), then the rows of every rejected input
    quarantined with the reason: the year's findings are final here."""
    FAMILY.year_checks(batch.departments)
    PROJECT.year_checks(batch.forms)
    batch.findings = [f for item in (*batch.departments, *batch.forms) for f in item.findings]
    batch.staging.put(QUARANTINE, _quarantine_frame(
        _quarantine_rejected(batch.staging, {d.file for d in batch.departments if d.has_errors}, batch.year,
                             FAMILY.tables)
        + _quarantine_rejected(batch.staging, {(f.file, f.sheet) for f in batch.forms if f.has_errors}, batch.year,
                               PROJECT.tables)))
    return batch


def _quarantine_rejected(staging: Staging, rejected: set, year: int, tables) -> list[dict]:
    """Rejected inputs' rows are kept, with the reason, rather than dropped. `rejected`: a department's
    file, or a project form's (file, sheet)."""
    rows = []
    for name in tables:
        if name in _INPUT_FACTS or not rejected:
            continue  # its facts are the findings' subject, not rows of a table
        form = "project_key" in tables[name]
        chosen = (pl.concat_str("src_file", "src_sheet", separator="\0").is_in([f"{f}\0{s}" for f, s in rejected])
                  if form else pl.col("src_file").is_in(rejected))
        for row in staging.scan(name).filter(chosen).collect().iter_rows(named=True):
            cells = {k: str(v) for k, v in row.items() if k not in _SOURCE_COLUMNS and v is not None}
            rows.append({"year": year, "dept_code": row.get("dept_code"), "project_key": row.get("project_key"),
                         "file": row["src_file"], "sheet": row["src_sheet"], "row": row["src_row"],
                         "rule": "project.rejected" if form else "department.rejected",
                         "reason": FORM_REJECTED_REASON if form else REJECTED_REASON,
                         "cells": json.dumps(cells, ensure_ascii=False)})
    return rows


FORM_REJECTED_REASON = "该项目自评表存在错误，整体未载入，请先修正错误"
_INPUT_FACTS = frozenset({"departments", "project_forms"})
_SOURCE_COLUMNS = frozenset({"year", "dept_code", "project_key", "src_file", "src_sheet", "src_row"})


def load_batch(batch: Batch, settings: Settings, run_id: str, rulesets: RuleSets) -> tuple[list[Finding], int]:
    """Replace the accepted department-years and project forms, and record every finding; returns the
    reconciliation warnings and the rows the batch held. The batch's staged rows are removed once loaded."""
    rows = batch.staging.rows
    partitions = pl.DataFrame(
        {"year": [batch.year] * len(batch.accepted), "dept_code": [d.dept_code for d in batch.accepted]},
        schema={"year": pl.Int32, "dept_code": pl.String},
    )
    projects = pl.DataFrame(
        {"year": [batch.year] * len(batch.accepted_forms), "project_key": [f.project_key for f in batch.accepted_forms]},
        schema={"year": pl.Int32, "project_key": pl.String},
    )
    with connect(settings.warehouse) as con:
        for family, keys in ((FAMILY, partitions), (PROJECT, projects)):
            if keys.height:
                replace_partitions(con, settings.sql_dir, family=family, partitions=keys, staging=batch.staging,
                                   rules=rulesets.rules, run_id=run_id)
        mismatches = (reconciliation_findings(con, batch.year, partitions["dept_code"].to_list())
                      + project_reconciliation_findings(con, batch.year, projects["project_key"].to_list()))
        findings = batch.findings + mismatches
        con.execute("begin transaction")
        append(con, "audit.validation_issues", _findings_frame(findings, run_id, batch.year))
        con.execute(f"insert into audit.quarantine by name select *, ? as run_id from {batch.staging.relation(QUARANTINE)}",
                    [run_id])
        _record_reads(con, batch, run_id)
        con.execute("commit")
    batch.staging.remove()
    return mismatches, rows


def reconciliation_findings(con, year: int, dept_codes: list[str]) -> list[Finding]:
    if not dept_codes:
        return []
    rows = con.sql(
        "select * from audit.reconciliation where year = ? and list_contains(?, dept_code) and status = 'mismatch' "
        "order by dept_code, file, sheet, cell, figure",
        params=[year, dept_codes],
    ).pl().iter_rows(named=True)
    return [
        Finding("warning", f"reconcile.{r['figure_key']}",
                f"“{r['figure']}”填报为 {_shown(r['kind'], r['reported_value'])}，按明细计算为 "
                f"{_shown(r['kind'], r['computed_value'])}，两者不一致{_WHAT_IS_USED.get(r['figure_key'], _COMPUTED_USED)}",
                r["file"], r["sheet"], r["cell"], r["reported_text"], r["dept_code"])
        for r in rows
    ]


def project_reconciliation_findings(con, year: int, keys: list[str]) -> list[Finding]:
    """Each printed figure of a form that differs from the recomputed one, or is left empty where the form's
    rows give it: a warning naming its cell (printed figures are never overwritten: the marts hold both)."""
    if not keys:
        return []
    # row by row: a province's tens of thousands of slips as dicts at once would weigh a hundred megabytes
    rows = con.sql(sql_file("queries/project_mismatches.sql"), params={"year": year, "keys": keys}).pl().iter_rows(named=True)
    return [
        Finding("warning", f"reconcile.project.{r['figure_key']}",
                (f"“{r['figure']}”未填写，按本表计算应为 {_shown(r['kind'], r['computed_value'])}；请补填"
                 if r["status"] == "missing" else
                 f"“{r['figure']}”填报为 {_shown(r['kind'], r['reported_value'])}，按评分规则计算为 "
                 f"{_shown(r['kind'], r['computed_value'])}，两者不一致{_FORM_FIGURE_HINT.get(r['figure_key'], _FORM_HINT)}"),
                r["file"], r["sheet"], r["cell"], None if r["reported_value"] is None else _shown(r["kind"], r["reported_value"]),
                project_key=r["project_key"])
        for r in rows
    ]


_FORM_HINT = "（汇总表与评分采用计算值，填报值原样保留；请核对后修正自评表）"
_FORM_FIGURE_HINT = {
    "qualitative_score": "（定性指标得分应在其完成情况对应的档次内：达成 80%–100%、部分达成 50%–80%、未达成 0–50% 的分值；"
                         "评分采用填报值，请核对）",
}


# What the marts and tables hold where a printed figure and its recomputation differ: the recomputed
# figure, except for the budget indicator, whose printed actual is what panyu_share's budget item scores.
_COMPUTED_USED = "（报告表格采用按明细计算的值，请核对后修正工作簿中的填报值）"
_WHAT_IS_USED = {
    "budget_indicator": "（评分按该指标填报的实际完成值计算；请核对该指标与部门预算执行率，修正有误的一项）",
}


def _shown(kind: str, value) -> str:
    if kind == "rate":
        return fmt_percent(value)
    if kind == "amount":
        return fmt_wan(value) + " 万元"
    if kind == "count":
        return str(int(value))
    return fmt_score(value)


def _findings_frame(findings: list[Finding], run_id: str, year: int) -> pl.DataFrame:
    """Built a column at a time: a province's findings as dicts would be a hundred megabytes for a moment."""
    if not findings:
        return pl.DataFrame()
    columns = {name: [getattr(f, name) for f in findings] for name in Finding.__dataclass_fields__}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return frame.with_columns(pl.lit(run_id).alias("run_id"), pl.lit(year, pl.Int32).alias("year"))




# Departments whose report data is queried and drawn together: memory stays flat past this.
DRAW_BLOCK = 1000


def _report_frames(con, year: int, codes: list[str], run_id: str) -> dict[str, dict[str, pl.DataFrame]]:
    """One query per report table for these departments, split by department (and an empty frame)."""
    by_table = {}
    for path in sorted(FAMILY.report_queries.glob("*.sql")):
        name, query = path.stem, path.read_text(encoding="utf-8")
        params = {"year": year, "depts": codes, **({"run": run_id} if "$run" in query else {})}
        frame = con.sql(query, params=params).pl()
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
    failed: list[tuple[str, str, str]] = []
    # Drawing (pictures take seconds) happens with the warehouse closed, over every core for a district.
    with pool_for(settings.runner, len(accepted)) as pool:
        # A block of departments at a time, so a province's reports never sit in memory at once.
        for start in range(0, len(accepted), DRAW_BLOCK):
            block = accepted[start:start + DRAW_BLOCK]
            with connect(settings.warehouse) as con:
                by_table = _report_frames(con, batch.year, [d.dept_code for d in block], run_id)
            jobs = [
                (settings.report_dir(dept.dept_code), f"数据来源：{dept.file}；运行编号 {run_id}",
                 {name: parts.get(dept.dept_code, parts["__empty__"]) for name, parts in by_table.items()},
                 tuple(formats))
                for dept in block
            ]
            del by_table
            for part in map_chunks(pool, FAMILY.draw_chunk, jobs, chunk=25):
                for written in part:
                    paths.extend(written.paths)
                    warnings.extend(written.warnings)
                    failed.extend(written.failed)
    paths += _draw_projects(settings, batch, run_id, formats)
    # The year's index whatever was drawn: it links what is on disk, and a run that redrew some
    # departments' files (and removed their older formats) must not leave it linking the old ones.
    with connect(settings.warehouse) as con:
        year_rows = read_year(con, batch.year)
        inputs, findings = year_findings(con, batch.year, run_id)
    errors = findings.filter(pl.col("severity") == "error").group_by("file").len("n")
    rejected = [{"dept_code": r["dept_code"], "dept_name": r["dept_name"], "file": r["src_file"], "errors": r["n"]}
                for r in inputs.filter(~pl.col("forms")).join(errors, left_on="src_file", right_on="file")
                .sort("src_file").iter_rows(named=True)]
    paths.append(write_year_index(year_rows, settings.out_dir, batch.year, rejected, f"运行编号 {run_id}",
                                  validation_written=True))
    for warning in dict.fromkeys(warnings):
        print(f"警告：{warning}")  # the flow logs prints; the CLI repeats it in its summary
    if failed:
        _record_drawing_failures(settings, batch, run_id, failed)
    return paths


def _draw_projects(settings: Settings, batch: Batch, run_id: str, formats: tuple[str, ...]) -> list[Path]:
    """The forms loaded by this run redrawn, and the year's and each 主管部门's roll-up of every form of the year."""
    with connect(settings.warehouse) as con:
        if not has_tables(con, "mart.project_evaluation"):
            return []
        rollup = con.sql(_project_query("rollup"), params={"year": batch.year}).pl()
        if not rollup.height:
            return []
        departments = con.sql(_project_query("departments"), params={"year": batch.year}).pl()
    note = f"运行编号 {run_id}"
    paths = write_project_year(settings.out_dir, batch.year, rollup, departments, note, formats, code_version())
    keys = [f.project_key for f in batch.accepted_forms]
    failed = []
    with pool_for(settings.runner, len(keys)) as pool:
        for start in range(0, len(keys), DRAW_BLOCK):
            block = keys[start:start + DRAW_BLOCK]
            params = {"year": batch.year, "keys": block}
            with connect(settings.warehouse) as con:
                forms, funds, indicators = (con.sql(_project_query(name), params=params).pl()
                                            for name in ("forms", "funds", "indicators"))
            funds_by, indicators_by = (frame.partition_by("project_key", as_dict=True) for frame in (funds, indicators))
            jobs = [(settings.out_dir, batch.year, form, funds_by.get((form["project_key"],), funds.clear()),
                     indicators_by.get((form["project_key"],), indicators.clear()), formats, note)
                    for form in forms.iter_rows(named=True)]
            for part in map_chunks(pool, PROJECT.draw_chunk, jobs, chunk=50):
                for written, failures in part:
                    paths.extend(written)
                    failed.extend(failures)
    if failed:
        findings = [Finding("warning", "publish.draw_failed",
                            f"该项目自评表未能重新生成（{reason}），数据已载入；请将该自评表转交数据管理员",
                            next(f.file for f in batch.accepted_forms if f.project_key == key), project_key=key)
                    for key, _fmt, reason in failed]
        batch.findings.extend(findings)
        with connect(settings.warehouse) as con:
            append(con, "audit.validation_issues", _findings_frame(findings, run_id, batch.year))
    return paths


def _project_query(name: str) -> str:
    return (PROJECT.report_queries / f"{name}.sql").read_text(encoding="utf-8")


_FORMAT_NAMES = {"html": "网页", "xlsx": "Excel", "docx": "Word", "png": "图片"}


def _record_drawing_failures(settings: Settings, batch: Batch, run_id: str, failed: list[tuple[str, str, str]]) -> None:
    """Each department whose report could not be drawn in a format gets a finding saying so (its data is
    loaded; its other formats are drawn)."""
    files = {d.dept_code: d.file for d in batch.accepted}
    findings = [Finding("warning", "publish.draw_failed",
                        f"该部门的{_FORMAT_NAMES.get(fmt, fmt)}报告未能生成（{reason}），数据已载入，其他格式照常生成；"
                        "请将该工作簿转交数据管理员", files.get(code, code), dept_code=code)
                for code, fmt, reason in failed]
    for finding in findings:
        print(f"警告：{finding}")
    batch.findings.extend(findings)
    with connect(settings.warehouse) as con:
        append(con, "audit.validation_issues", _findings_frame(findings, run_id, batch.year))


def write_validation_report(settings: Settings, batch: Batch, run_id: str) -> list[Path]:
    """Mark rejected departments whose last good data stays in the marts as stale
    (audit.department_status), then write the year's validation report from every input's last read:
    OUT/<year>/validation.html and .csv."""
    with connect(settings.warehouse) as con:
        record_department_status(con, batch.year, batch.departments, run_id, datetime.now(UTC))
        inputs, findings = year_findings(con, batch.year, run_id)
        statuses = con.sql("select * from audit.department_status where year = ?", params=[batch.year]).pl()
    return write_validation_pages(settings.out_dir, batch.year, run_id, inputs, findings, statuses)


def _record_reads(con, batch: Batch, run_id: str) -> None:
    """Which of its inputs the run read (audit.run_inputs.was_read), for year_findings."""
    reads = pl.DataFrame(
        {"src_file": [item.file for item in (*batch.departments, *batch.forms)],
         "ignored_sheets": [list(d.ignored_sheets) for d in batch.departments] + [[] for _ in batch.forms],
         "dept_name": [d.info.get("dept_name") for d in batch.departments] + [None for _ in batch.forms]},
        schema={"src_file": pl.String, "ignored_sheets": pl.List(pl.String), "dept_name": pl.String},
    ).unique("src_file", keep="first")
    con.register("run_reads", reads.to_arrow())
    try:
        con.execute(sql_file("ledger/record_reads.sql"), {"run_id": run_id})
    finally:
        con.unregister("run_reads")


def year_findings(con, year: int, run_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The year's inputs as they stand once this run has loaded (sql/queries/year_inputs.sql), and their
    findings, each input's from the run that last read it: the year's truth, whichever inputs this run read."""
    inputs = con.sql(sql_file("queries/year_inputs.sql"), params={"year": year, "run_id": run_id}).pl()
    con.register("year_inputs", inputs.select("src_file", "run_id").to_arrow())
    try:
        findings = con.sql(sql_file("queries/year_findings.sql"), params={"run_id": run_id}).pl()
    finally:
        con.unregister("year_inputs")
    return inputs, findings


QUARANTINE = "quarantine"  # staged beside the raw tables, for audit.quarantine
_QUARANTINE_SCHEMA = {"year": pl.Int32, "dept_code": pl.String, "project_key": pl.String, "file": pl.String,
                      "sheet": pl.String, "row": pl.Int32, "rule": pl.String, "reason": pl.String, "cells": pl.String}


def _quarantine_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=_QUARANTINE_SCHEMA)


def finish_run(settings: Settings, run_id: str, batch: Batch, mismatches: list[Finding], reports: list[Path]) -> RunSummary:
    loaded = tuple(sorted(d.dept_code for d in batch.accepted))
    rejected = tuple(f"{d.file}（{d.dept_code or '部门编码未知'}）" for d in batch.rejected)
    forms_rejected = tuple(f"{f.file} › {f.sheet}（{f.info.get('project') or '项目名称未知'}）" for f in batch.rejected_forms)
    unchanged = tuple(batch.unchanged_rejected)
    with connect(settings.warehouse) as con:
        _end_run(con, run_id, "partial" if rejected or forms_rejected or unchanged else "completed", len(loaded),
                 len(rejected), len(batch.accepted_forms), len(forms_rejected))
    findings = batch.findings + mismatches
    return RunSummary(
        run_id, settings.year, loaded, rejected,
        sum(f.severity == "error" for f in findings), sum(f.severity == "warning" for f in findings),
        len(mismatches), tuple(str(p) for p in reports), str(settings.warehouse),
        forms_loaded=len(batch.accepted_forms), forms_rejected=forms_rejected, unchanged_rejected=unchanged,
    )


def export_marts(settings: Settings, batch: Batch) -> list[Path]:
    """Parquet copies of the year's marts, every department of it; nothing when the run loaded none."""
    if not batch.accepted:
        return []
    with connect(settings.warehouse, read_only=False) as con:
        return export_year(con, settings.parquet_dir, batch.year)


def fail_run(settings: Settings, run_id: str) -> None:
    shutil.rmtree(staging_folder(settings.warehouse, run_id), ignore_errors=True)
    with connect(settings.warehouse) as con:
        _end_run(con, run_id, "failed")


def _remove_ended_staging(con, warehouse: Path) -> None:
    """Staged rows of runs the ledger says have ended (a run killed before its load leaves them): only
    folders named by such a run's id are removed."""
    root = staging_root(warehouse)
    if not root.is_dir():
        return
    names = [p.name for p in root.iterdir() if p.is_dir()]
    ended = con.execute("select run_id from audit.runs where status <> 'running' and list_contains(?, run_id)",
                        [names]).fetchall()
    for (run_id,) in ended:
        shutil.rmtree(staging_folder(warehouse, run_id), ignore_errors=True)


def _end_run(con, run_id: str, status: str, loaded: int | None = None, rejected: int | None = None,
             forms_loaded: int | None = None, forms_rejected: int | None = None) -> None:
    con.execute(sql_file("ledger/end_run.sql"), {"run_id": run_id, "finished_at": datetime.now(UTC), "status": status,
                                                 "loaded": loaded, "rejected": rejected,
                                                 "forms_loaded": forms_loaded, "forms_rejected": forms_rejected})


__all__ = [
    "Batch", "ReadBatch", "RunSummary", "check_departments", "draw_reports", "fail_run", "finish_run", "load_batch", "load_rulesets",
    "new_run_id", "read_inputs", "start_run",
]
