"""Reruns a data engineer can trust: ledger, skipping, partitions, migrations, exports, locks, crashes."""

from __future__ import annotations

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

from jixiao.seed import SEED_BOOK
from jixiao.settings import PROJECT_ROOT
from jixiao.warehouse import migrations
from jixiao.workbook import write_workbook
from tests.conftest import MARTS, SEED_WORKBOOK, query
from tests.conftest import mart_checksum as checksum

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


def test_parquet_exports_are_partitioned_by_year_and_department(seed_raw, settings_for, run_flow):
    settings = settings_for(seed_raw)
    run_flow(settings)
    root = settings.parquet_dir
    for mart in [*MARTS, "department_yoy"]:
        assert (root / mart / "year=2022" / "dept_code=PY-DPF" / "data.parquet").is_file(), mart
    frame = pl.read_parquet(root / "project_spending", hive_partitioning=True)
    assert frame.height == 23 and set(frame["dept_code"]) == {"PY-DPF"}
    assert frame["budget_yuan"].dtype == pl.Decimal(18, 2)
    assert not list(root.rglob("*.partial"))


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
