"""The nightly deployment as Prefect shows it, a rerun of one year by parameter, and the nightly's choice of years.

`jixiao serve` runs for real in a subprocess against the session's Prefect
test server; a deployment run is executed the way a runner's subprocess
executes it (the flow loaded from the deployment's entrypoint), in-process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import duckdb
import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.flow_engine import load_flow_and_flow_run, run_flow

from flows.nightly import nightly, nightly_deployment
from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import write_workbook

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

HTML = ["html"]


def seed_year(raw_dir, year: int, name: str = "区残联", book=SEED_BOOK):
    book = dataclasses.replace(book, info={**book.info, "年度": year})
    return write_workbook(book, raw_dir / str(year) / f"{name}_{year}.xlsx")


def test_jixiao_serve_registers_the_nightly_deployment(raw_dir, tmp_path, prefect_api_url):
    seed_year(raw_dir, 2022)
    warehouse, out = tmp_path / "wh" / "jixiao.duckdb", tmp_path / "reports"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()  # the deployment must not depend on the directory serve was started in
    serving = subprocess.Popen(
        [sys.executable, "-m", "jixiao.cli", "serve", "--raw", str(raw_dir), "--warehouse", str(warehouse),
         "--out", str(out)],
        cwd=elsewhere, env={**os.environ, "PREFECT_API_URL": prefect_api_url},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deployment = None
        deadline = time.monotonic() + 90
        with get_client(sync_client=True) as client:
            while deployment is None or deployment.parameters.get("raw_dir") != str(raw_dir):
                assert serving.poll() is None, serving.stdout.read()
                assert time.monotonic() < deadline, "jixiao serve registered no deployment"
                time.sleep(0.5)
                try:
                    deployment = client.read_deployment_by_name("jixiao-nightly/nightly")
                except Exception:  # not registered yet
                    deployment = None
    finally:
        serving.terminate()
        serving.wait(timeout=30)

    assert deployment.entrypoint == "flows.nightly.nightly"
    [schedule] = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("0 2 * * *", "Asia/Shanghai", True)
    assert deployment.parameters == {"raw_dir": str(raw_dir), "warehouse": str(warehouse), "out_dir": str(out)}
    properties = deployment.parameter_openapi_schema["properties"]
    assert properties["year"]["default"] is None and {"raw_dir", "warehouse", "out_dir", "force"} <= set(properties)


def test_a_deployment_run_with_a_year_produces_its_marts(raw_dir, tmp_path, prefect_server):
    seed_year(raw_dir, 2021)
    seed_year(raw_dir, 2022)
    warehouse, out = tmp_path / "wh" / "jixiao.duckdb", tmp_path / "reports"
    deployment_id = nightly_deployment(raw_dir, warehouse, out, cron="30 1 * * *").apply()
    with get_client(sync_client=True) as client:
        scheduled = client.create_flow_run_from_deployment(deployment_id, parameters={"year": 2022, "formats": HTML})
    flow_run, flow = load_flow_and_flow_run(scheduled.id)
    state = run_flow(flow, flow_run=flow_run, return_type="state")

    assert state.is_completed(), state.message
    assert "2022" in state.message
    summary = query_settings(warehouse, "select year, dept_code, total_score from mart.department_summary")
    assert [(r["year"], r["dept_code"]) for r in summary] == [(2022, "PY-DPF")]  # 2021 untouched: not asked for
    for mart in ("indicator_completion", "project_spending", "task_spending", "score_sheet"):
        assert query_settings(warehouse, f"select count(*) as n from mart.{mart} where year = 2022")[0]["n"] > 0
    assert (out / "2022" / "PY-DPF" / "index.html").exists()


def test_the_nightly_run_processes_the_years_whose_workbooks_changed(raw_dir, tmp_path, prefect_server):
    seed_year(raw_dir, 2021)
    seed_year(raw_dir, 2022)
    paths = {"raw_dir": raw_dir, "warehouse": tmp_path / "jixiao.duckdb", "out_dir": tmp_path / "reports",
             "formats": HTML}

    first = nightly(**paths, return_state=True)
    assert first.name == "Completed" and "2021 年度：已载入 1 个部门" in first.message and "2022 年度" in first.message
    assert [s.year for s in first.result()] == [2021, 2022]
    table = nightly_artifact(first)
    assert [(r["年度"], r["原因"], r["结果"], r["已载入"]) for r in table] == [
        (2021, "数据仓库中没有输入记录", "Completed", 1), (2022, "数据仓库中没有输入记录", "Completed", 1)]

    again = nightly(**paths, return_state=True)
    assert again.name == "Completed" and "没有需要处理的年度" in again.message and again.result() == []

    # 2021 gets a second department, whose workbook has an error
    broken = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": "PY-BAD"},
                                 projects=(dataclasses.replace(SEED_BOOK.projects[0], budget=-1.0),
                                           *SEED_BOOK.projects[1:]))
    seed_year(raw_dir, 2021, "测试局", broken)
    third = nightly(**paths, return_state=True)
    assert (third.type.value, third.name) == ("COMPLETED", "Partial") and "测试局_2021.xlsx（PY-BAD）" in third.message
    [year_2021] = third.result()
    # PY-DPF's workbook did not change: its data stays, only the new workbook is read
    assert (year_2021.year, year_2021.loaded, len(year_2021.rejected)) == (2021, (), 1)
    assert query_settings(paths["warehouse"], "select dept_code from mart.department_summary where year = 2021") == [
        {"dept_code": "PY-DPF"}]
    assert [r["原因"] for r in nightly_artifact(third)] == ["工作簿有变化：新增 测试局_2021.xlsx"]


def nightly_artifact(state) -> list[dict]:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    return json.loads(artifact.data)


def query_settings(warehouse, sql: str) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl().to_dicts()
