"""Reruns a data engineer can trust: ledger, skipping, partitions, migrations, exports, locks, crashes."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from jixiao.load.warehouse import migrations
from jixiao.settings import PROJECT_ROOT
from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import write_workbook
from tests.conftest import MARTS, SEED_WORKBOOK, query
from tests.conftest import mart_checksum as checksum
from tests.workbook_files import to_csv_folder

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

FIXTURE_V1 = PROJECT_ROOT / "tests" / "fixtures" / "warehouse_v1.duckdb.gz"


def test_ledger_records_inputs_stages_and_lineage(seed_raw, settings_for, run_flow):
    settings = settings_for(seed_raw)
    summary = run_flow(settings)
    run = query(settings, "select * from audit.runs")[0]
    assert (run["run_id"], run["status"], run["code_version"]) == (summary.run_id, "completed", run["code_version"])
    assert len(run["code_version"]) == 16
    inputs = query(settings, "select * from audit.run_inputs")
    workbook = seed_raw / "2022" / SEED_WORKBOOK.name
    assert [(Path(i["path"]).name, i["size"], i["sha256"]) for i in inputs] == [
        (workbook.name, workbook.stat().st_size, hashlib.sha256(workbook.read_bytes()).hexdigest())]
    stages = {s["stage"]: s for s in query(settings, "select * from audit.run_stages")}
    assert set(stages) >= {"read", "validate", "load", "render", "export"}
    assert stages["read"]["rows"] == 1 and all(s["seconds"] >= 0 for s in stages.values())
    # any figure traces to its cell: the project row's source row holds that project's name
    import python_calamine

    row = query(settings, "select * from mart.project_spending where project_no = 3")[0]
    assert row["run_id"] == summary.run_id
    grid = python_calamine.CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name(row["src_sheet"]).to_python(
        skip_empty_area=False)
    assert row["project"] in grid[row["src_row"] - 1]


def test_unchanged_inputs_are_skipped_unless_forced(seed_raw, settings_for, run_flow):
    settings = settings_for(seed_raw)
    first = run_flow(settings)
    before = checksum(settings)
    second = run_flow(settings)
    assert second.skipped and not first.skipped
    forced = run_flow(dataclasses.replace(settings, force=True))
    assert not forced.skipped and forced.loaded == ("PY-DPF",)
    assert checksum(settings) == before
    statuses = [r["status"] for r in query(settings, "select status from audit.runs order by started_at")]
    assert statuses == ["completed", "skipped", "completed"]
    # a corrected workbook is new input: the next run processes it
    book = dataclasses.replace(SEED_BOOK, reported={**SEED_BOOK.reported, "项目支出总额（万元）": 3456.25})
    write_workbook(book, seed_raw / "2022" / SEED_WORKBOOK.name)
    fixed = run_flow(settings)
    assert not fixed.skipped and fixed.mismatches == 1


def test_a_rerun_of_one_department_leaves_other_years_and_departments_alone(raw_dir, settings_for, run_flow):
    for year in (2021, 2022):
        for code in ("PY-DPF", "PY-OTHER"):
            info = {**SEED_BOOK.info, "年度": year, "部门编码": code}
            write_workbook(dataclasses.replace(SEED_BOOK, info=info), raw_dir / str(year) / f"{code}.xlsx")
    for year in (2021, 2022):
        run_flow(settings_for(raw_dir, year))
    settings = settings_for(raw_dir, 2022, departments=("PY-OTHER",), force=True)
    others = "not (year = 2022 and dept_code = 'PY-OTHER')"
    before_others, before_target = checksum(settings, others), checksum(settings, "year = 2022 and dept_code = 'PY-OTHER'")
    runs_before = {r["run_id"] for r in query(settings, f"select distinct run_id from mart.project_spending where {others}")}
    summary = run_flow(settings)
    assert summary.loaded == ("PY-OTHER",)
    assert checksum(settings, others) == before_others
    assert checksum(settings, "year = 2022 and dept_code = 'PY-OTHER'") == before_target
    assert {r["run_id"] for r in query(settings, f"select distinct run_id from mart.project_spending where {others}")} == runs_before
    assert query(settings, "select distinct run_id from mart.project_spending where year = 2022 and dept_code = 'PY-OTHER'") == [
        {"run_id": summary.run_id}]
    assert query(settings, "select count(*) as n from mart.department_summary") == [{"n": 4}]
    yoy = query(settings, "select * from mart.department_yoy where year = 2022 order by dept_code")
    assert [(r["dept_code"], r["previous_year"], r["total_score_change"]) for r in yoy] == [
        ("PY-DPF", 2021, 0), ("PY-OTHER", 2021, 0)]


def test_parquet_exports_are_one_file_per_mart_and_year(seed_raw, settings_for, run_flow):
    settings = settings_for(seed_raw)
    run_flow(settings)
    root = settings.parquet_dir
    for mart in [*MARTS, "department_yoy"]:
        assert [p.relative_to(root / mart).as_posix() for p in (root / mart).rglob("*") if p.is_file()] == [
            "year=2022/data.parquet"], mart
    frame = pl.read_parquet(root / "project_spending", hive_partitioning=True)
    assert frame.height == 23 and set(frame["dept_code"]) == {"PY-DPF"} and set(frame["year"]) == {2022}
    assert frame["budget_yuan"].dtype == pl.Decimal(18, 2)
    assert frame.drop("year").sort("project_no").equals(
        pl.DataFrame(query(settings, "select * exclude (year) from mart.project_spending order by project_no"),
                     schema=frame.drop("year").schema))
    # the scratch folder the files were written in is gone
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_a_rerun_of_one_department_rewrites_the_whole_year_file_and_drops_the_old_layout(raw_dir, settings_for, run_flow):
    for code in ("PY-OTHER", "PY-DPF"):
        info = {**SEED_BOOK.info, "部门编码": code}
        write_workbook(dataclasses.replace(SEED_BOOK, info=info), raw_dir / "2022" / f"{code}.xlsx")
    first = run_flow(settings_for(raw_dir))
    root = settings_for(raw_dir).parquet_dir
    year_file = root / "project_spending" / "year=2022" / "data.parquet"
    # files of the earlier per-department layout, and a year this run does not touch
    old_layout = [root / mart / "year=2022" / f"dept_code={code}" / "data.parquet"
                  for mart in MARTS for code in ("PY-DPF", "PY-OTHER")]
    untouched = [root / "project_spending" / "year=2021" / "data.parquet",
                 root / "project_spending" / "year=2021" / "dept_code=PY-DPF" / "data.parquet"]
    for path in old_layout + untouched:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(year_file.read_bytes())
    untouched_bytes = [p.read_bytes() for p in untouched]

    rerun = run_flow(settings_for(raw_dir, departments=("PY-OTHER",), force=True))
    assert rerun.loaded == ("PY-OTHER",)
    frame = pl.read_parquet(year_file)
    # ordered by department for row-group pruning; the department not rerun keeps its rows and run
    assert frame["dept_code"].is_sorted() and frame["dept_code"].unique(maintain_order=True).to_list() == [
        "PY-DPF", "PY-OTHER"]
    runs = frame.group_by("dept_code").agg(pl.col("run_id").unique()).sort("dept_code")
    assert runs.rows() == [("PY-DPF", [first.run_id]), ("PY-OTHER", [rerun.run_id])]
    assert frame.height == query(settings_for(raw_dir), "select count(*) as n from mart.project_spending where year = 2022")[0]["n"]
    assert not any(p.exists() for p in old_layout)
    assert not list(root.glob("*/year=2022/dept_code=*"))
    assert [p.read_bytes() for p in untouched] == untouched_bytes


def test_an_older_warehouse_is_upgraded_in_place(seed_raw, settings_for, run_flow, tmp_path):
    clean = settings_for(seed_raw)
    run_flow(clean)
    expected = checksum(clean)

    old = dataclasses.replace(clean, warehouse=tmp_path / "old" / "jixiao.duckdb", force=True)
    old.warehouse.parent.mkdir()
    old.warehouse.write_bytes(gzip.decompress(FIXTURE_V1.read_bytes()))
    assert not query(old, "select * from information_schema.tables where table_name = 'schema_migrations'")
    summary = run_flow(old)
    assert summary.loaded == ("PY-DPF",)
    latest = max(n for n, _, _ in migrations(PROJECT_ROOT / "sql"))
    assert query(old, "select max(version) as v from audit.schema_migrations") == [{"v": latest}]
    runs = query(old, "select status, code_version from audit.runs order by started_at")
    assert [r["status"] for r in runs] == ["completed", "completed"] and runs[0]["code_version"] is None
    assert checksum(old) == expected


def _cli(settings, api_url: str) -> list[str]:
    return [sys.executable, "-m", "jixiao.cli", "run", "--year", str(settings.year), "--raw", str(settings.raw_dir),
            "--warehouse", str(settings.warehouse), "--out", str(settings.out_dir), "--force", "--formats", "html"]


def _env(api_url: str) -> dict:
    return {**os.environ, "PREFECT_API_URL": api_url, "PYTHONUNBUFFERED": "1"}


def test_two_runs_at_once_take_turns(seed_raw, settings_for, prefect_api_url):
    settings = settings_for(seed_raw)
    runs = [subprocess.Popen(_cli(settings, prefect_api_url), env=_env(prefect_api_url), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=180)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    ledger = query(settings, "select status, started_at, finished_at from audit.runs order by started_at")
    assert [r["status"] for r in ledger] == ["completed", "completed"]
    assert ledger[0]["finished_at"] <= ledger[1]["started_at"]  # the second waited for the first
    assert query(settings, "select count(*) as n from mart.project_spending") == [{"n": 23}]


def test_killing_runs_at_random_moments_never_corrupts_the_warehouse(seed_raw, settings_for, prefect_api_url):
    settings = settings_for(seed_raw)
    clean = None
    rng = random.Random(20221231)
    for attempt in range(6):
        run = subprocess.Popen(_cli(settings, prefect_api_url), env=_env(prefect_api_url),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))
        run.send_signal(signal.SIGKILL)
        run.wait()
        if settings.warehouse.exists():
            with duckdb.connect(str(settings.warehouse), read_only=True) as con:
                tables = {r[0] for r in con.sql("select table_name from information_schema.tables "
                                                "where table_schema = 'mart'").fetchall()}
            if "department_summary" in tables:
                projects = query(settings, "select count(*) as n from mart.project_spending")[0]["n"]
                assert projects in (0, 23), f"attempt {attempt}: half-written marts ({projects} projects)"
                if projects:
                    state = checksum(settings)
                    assert clean in (None, state)
                    clean = state
    finished = subprocess.run(_cli(settings, prefect_api_url), env=_env(prefect_api_url), capture_output=True,
                              text=True, timeout=180)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    statuses = [r["status"] for r in query(settings, "select status from audit.runs order by started_at")]
    assert statuses[-1] == "completed"
    assert "running" not in statuses
    assert clean in (None, checksum(settings))


def test_a_nightly_run_reads_only_the_workbooks_that_changed(raw_dir, settings_for, run_flow):
    for code in ("PY-A", "PY-B", "PY-C"):
        info = {**SEED_BOOK.info, "部门编码": code}
        write_workbook(dataclasses.replace(SEED_BOOK, info=info), raw_dir / "2022" / f"{code}.xlsx")
    settings = settings_for(raw_dir)
    first = run_flow(settings)
    assert first.loaded == ("PY-A", "PY-B", "PY-C")
    corrected = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-B"},
                                    reported={**SEED_BOOK.reported, "项目支出总额（万元）": 3456.25})
    write_workbook(corrected, raw_dir / "2022" / "PY-B.xlsx")
    nightly = run_flow(settings)
    assert nightly.loaded == ("PY-B",)
    read = query(settings, "select rows from audit.run_stages where run_id = ? and stage = 'read'", [nightly.run_id])
    assert read == [{"rows": 1}]
    runs = {r["dept_code"]: r["run_id"] for r in query(settings, "select dept_code, run_id from mart.department_summary")}
    assert runs == {"PY-A": first.run_id, "PY-B": nightly.run_id, "PY-C": first.run_id}
    # a different rule set is different work: everything is read again
    again = run_flow(dataclasses.replace(settings, ruleset="proportional"))
    assert again.loaded == ("PY-A", "PY-B", "PY-C")


def test_a_run_that_failed_after_its_load_is_not_trusted_to_have_drawn(seed_raw, settings_for, run_flow, tmp_path):
    blocked = tmp_path / "reports-not-a-folder"
    blocked.write_text("a file where the reports folder should be")
    settings = dataclasses.replace(settings_for(seed_raw), out_dir=blocked)
    with pytest.raises(OSError):
        run_flow(settings)  # loads, then cannot write the validation report or the tables
    assert query(settings, "select status from audit.runs") == [{"status": "failed"}]
    assert query(settings, "select count(*) as n from raw.departments") == [{"n": 1}]
    blocked.unlink()
    again = run_flow(settings)
    assert again.loaded == ("PY-DPF",) and _files_read(settings, again.run_id) == 1
    assert (blocked / "2022" / "PY-DPF" / "index.html").is_file()


def _files_read(settings, run_id: str) -> int:
    return query(settings, "select rows from audit.run_stages where run_id = ? and stage = 'read'", [run_id])[0]["rows"]


def _findings(settings, run_id: str, file: str) -> set[tuple]:
    return {tuple(r.values()) for r in query(
        settings, "select severity, rule, sheet, cell, value, message, dept_code from audit.validation_issues "
                  "where run_id = ? and file = ?", [run_id, file])}


def test_a_rejected_workbook_left_as_it_was_stands_rejected_with_its_findings(raw_dir, settings_for, run_flow):
    from flows.outcome import PARTIAL, run_state

    year_dir = raw_dir / "2022"
    for code in ("PY-A", "PY-B"):
        write_workbook(dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": code}), year_dir / f"{code}.xlsx")
    negative = dataclasses.replace(SEED_BOOK.projects[0], spent=-444.3)
    broken = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-BAD"},
                                 projects=(negative, *SEED_BOOK.projects[1:]))
    write_workbook(broken, year_dir / "PY-BAD.xlsx")
    # a CSV folder is one input of several files
    broken_csv = dataclasses.replace(broken, info={**SEED_BOOK.info, "部门编码": "PY-CSV"})
    to_csv_folder(write_workbook(broken_csv, raw_dir.parent / "PY-CSV.xlsx"), year_dir / "PY-CSV")
    settings = settings_for(raw_dir)
    first = run_flow(settings)
    assert first.loaded == ("PY-A", "PY-B")
    assert first.rejected == ("PY-BAD.xlsx（PY-BAD）", "PY-CSV（PY-CSV）")
    found = _findings(settings, first.run_id, "PY-BAD.xlsx")
    assert ("error", "projects.spent_yuan.min", "项目支出", "D3") in {f[:4] for f in found}
    found_csv = _findings(settings, first.run_id, "PY-CSV")
    assert ("error", "projects.spent_yuan.min", "项目支出", "D3") in {f[:4] for f in found_csv}
    quarantined = ("select sheet, row, rule, reason, cells from audit.quarantine "
                   "where run_id = ? and file = 'PY-BAD.xlsx' order by all")
    status = "select * from audit.department_status where dept_code = 'PY-BAD'"
    status_before = query(settings, status)
    assert [s["last_status"] for s in status_before] == ["rejected"]

    corrected = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-B"},
                                    reported={**SEED_BOOK.reported, "项目支出总额（万元）": 3456.25})
    write_workbook(corrected, year_dir / "PY-B.xlsx")
    nightly = run_flow(settings)
    # PY-B changed; the rejected inputs are as their last read left them: not read, rejected as they were
    assert _files_read(settings, nightly.run_id) == 1
    assert (nightly.loaded, nightly.rejected, nightly.exit_code) == (("PY-B",), (), 1)
    assert nightly.unchanged_rejected == ("PY-BAD.xlsx", "PY-CSV")
    state = run_state(nightly)
    assert state.name == PARTIAL and "PY-BAD.xlsx" in state.message and "未重新读取" in state.message
    assert _findings(settings, nightly.run_id, "PY-BAD.xlsx") == set()  # the run read nothing of it
    status_now = query(settings, status)
    assert status_now == status_before  # untouched: last read, and rejected, by the first run
    # the year's pages still show its findings, from the run that last read it
    with (settings.out_dir / "2022" / "validation.csv").open(encoding="utf-8-sig") as handle:
        lines = [line for line in csv.DictReader(handle) if line["文件"] == "PY-BAD.xlsx"]
    assert {(line["规则"], line["工作表"], line["单元格"], line["填写值"]) for line in lines} == {
        (f[1], f[2] or "", f[3] or "", f[4] or "") for f in found}
    assert {line["处理结果"] for line in lines} == {"被拒收：数据仓库中无该部门数据"}
    assert "PY-BAD" in (settings.out_dir / "2022" / "index.html").read_text(encoding="utf-8")

    # and the next night again
    write_workbook(dataclasses.replace(corrected, reported=SEED_BOOK.reported), year_dir / "PY-B.xlsx")
    again = run_flow(settings)
    assert (_files_read(settings, again.run_id), again.unchanged_rejected) == (1, nightly.unchanged_rejected)

    # --force reads everything, and finds the same
    forced = run_flow(dataclasses.replace(settings, force=True))
    assert _files_read(settings, forced.run_id) == 4 and forced.rejected == first.rejected
    assert _findings(settings, forced.run_id, "PY-BAD.xlsx") == found
    assert query(settings, quarantined, [forced.run_id]) == query(settings, quarantined, [first.run_id])

    write_workbook(dataclasses.replace(broken, projects=SEED_BOOK.projects), year_dir / "PY-BAD.xlsx")
    fixed = run_flow(settings)
    assert _files_read(settings, fixed.run_id) == 1
    assert (fixed.loaded, fixed.rejected, fixed.unchanged_rejected) == (("PY-BAD",), (), ("PY-CSV",))
    assert [(s["last_status"], s["loaded_run_id"]) for s in query(settings, status)] == [("loaded", fixed.run_id)]


def test_a_workbook_restored_after_a_rejection_is_read_again_and_current(raw_dir, settings_for, run_flow):
    good = raw_dir / "2022" / "PY-A.xlsx"
    write_workbook(dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-A"}), good)
    kept = good.read_bytes()
    settings = settings_for(raw_dir)
    first = run_flow(settings)
    broken = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-A", "部门名称": None})
    write_workbook(broken, good)
    assert run_flow(settings).rejected == ("PY-A.xlsx（PY-A）",)
    stale = "select is_stale, loaded_run_id from audit.department_status where dept_code = 'PY-A'"
    assert query(settings, stale) == [{"is_stale": True, "loaded_run_id": first.run_id}]
    # The department takes back the workbook that was loaded: the marts hold its data, but it is read
    # again, so that the department is current again rather than left marked stale.
    good.write_bytes(kept)
    restored = run_flow(settings)
    assert _files_read(settings, restored.run_id) == 1 and restored.loaded == ("PY-A",)
    assert query(settings, stale) == [{"is_stale": False, "loaded_run_id": restored.run_id}]


def test_a_loaded_workbook_is_read_again_when_another_workbook_takes_its_code(raw_dir, settings_for, run_flow):
    year_dir = raw_dir / "2022"
    for code in ("PY-A", "PY-B"):
        write_workbook(dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": code}), year_dir / f"{code}.xlsx")
    settings = settings_for(raw_dir)
    first = run_flow(settings)
    assert first.loaded == ("PY-A", "PY-B")
    # A second workbook under PY-A's code arrives; PY-A.xlsx, loaded, stays as it was.
    other = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-A"},
                                reported={**SEED_BOOK.reported, "项目支出总额（万元）": 3456.25})
    write_workbook(other, year_dir / "PY-A-2.xlsx")
    second = run_flow(settings)
    # Both are read and rejected, as a run that reads every workbook rejects them; PY-B.xlsx is not read.
    assert _files_read(settings, second.run_id) == 2
    assert second.rejected == ("PY-A-2.xlsx（PY-A）", "PY-A.xlsx（PY-A）") and second.loaded == ()
    duplicates = query(settings, "select file from audit.validation_issues where run_id = ? "
                                 "and rule = 'basic.dept_code_duplicate' order by file", [second.run_id])
    assert [d["file"] for d in duplicates] == ["PY-A-2.xlsx", "PY-A.xlsx"]
    # PY-A's last good data, from the first run, stays in the marts; the other workbook's is not loaded
    runs = {r["dept_code"]: r["run_id"] for r in query(settings, "select dept_code, run_id from mart.department_summary")}
    assert runs == {"PY-A": first.run_id, "PY-B": first.run_id}
    forced = run_flow(dataclasses.replace(settings, force=True))
    assert forced.rejected == second.rejected


def test_a_rejected_workbook_is_read_again_when_another_workbook_takes_its_code(raw_dir, settings_for, run_flow):
    year_dir = raw_dir / "2022"
    write_workbook(dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-A"}), year_dir / "PY-A.xlsx")
    unnamed = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-BAD", "部门名称": None})
    write_workbook(unnamed, year_dir / "PY-BAD.xlsx")
    settings = settings_for(raw_dir)
    first = run_flow(settings)
    assert first.rejected == ("PY-BAD.xlsx（PY-BAD）",)
    # the department hands in a good workbook under a new name and leaves the old one: a 部门编码 used twice
    write_workbook(dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-BAD"}), year_dir / "PY-BAD-2.xlsx")
    second = run_flow(settings)
    assert _files_read(settings, second.run_id) == 2
    assert second.rejected == ("PY-BAD-2.xlsx（PY-BAD）", "PY-BAD.xlsx（PY-BAD）")
    duplicates = query(settings, "select file from audit.validation_issues where run_id = ? "
                                 "and rule = 'basic.dept_code_duplicate' order by file", [second.run_id])
    assert [d["file"] for d in duplicates] == ["PY-BAD-2.xlsx", "PY-BAD.xlsx"]


def test_a_workbook_rejected_for_another_s_sake_is_read_again(raw_dir, settings_for, run_flow):
    """Two workbooks giving one 部门编码 are both rejected; once one is removed, the other, unchanged, loads:
    a rejection by a check across the year's inputs does not stand."""
    year_dir = raw_dir / "2022"
    write_workbook(dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-A"}), year_dir / "PY-A.xlsx")
    (year_dir / "PY-A（副本）.xlsx").write_bytes((year_dir / "PY-A.xlsx").read_bytes())
    settings = settings_for(raw_dir)
    first = run_flow(settings)
    assert (first.loaded, len(first.rejected)) == ((), 2)
    (year_dir / "PY-A（副本）.xlsx").unlink()
    second = run_flow(settings)
    assert (second.loaded, second.rejected, second.unchanged_rejected) == (("PY-A",), (), ())
