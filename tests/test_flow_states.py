"""What a run leaves in Prefect: its final state and artifacts; and how it behaves when things go wrong.

The real year flow against the session's Prefect test server, real workbooks,
a DuckDB file in tmp_path.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from prefect import flow, get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.states import Failed

from flows.policies import is_transient
from flows.year import run_year, wait_for_workbooks
from jixiao.load.changes import InputsChanging
from jixiao.load.warehouse import WarehouseLocked
from jixiao.publish.display import fmt_percent, fmt_score
from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import Project, write_workbook
from tests.conftest import SEED_WORKBOOK, query

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

HTML = ["html"]  # the data path and the HTML tables; pictures and documents have their own tests

# Another department's workbook whose first project has a negative budget: an error, so it is rejected.
FIRST = SEED_BOOK.projects[0]
BROKEN = dataclasses.replace(
    SEED_BOOK,
    info={**SEED_BOOK.info, "部门名称": "番禺区测试局", "部门简称": "测试局", "部门编码": "PY-BAD"},
    projects=(Project(FIRST.task, FIRST.name, -800.0, FIRST.spent), *SEED_BOOK.projects[1:]),
)


def artifacts(flow_run_id) -> dict[str, object]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in found}


def run_state(settings):
    return run_year(settings.year, settings.raw_dir, settings.warehouse, settings.out_dir, formats=HTML,
                    return_state=True)


def test_a_clean_run_ends_completed_with_its_artifacts(seed_raw, settings_for, prefect_server):
    settings = settings_for(seed_raw)
    state = run_state(settings)
    assert (state.type.value, state.name) == ("COMPLETED", "Completed")
    assert "PY-DPF" in state.message
    summary = state.result()
    assert summary.loaded == ("PY-DPF",)

    found = artifacts(state.state_details.flow_run_id)
    assert set(found) == {"jixiao-2022-departments", "jixiao-2022-reports"}
    assert found["jixiao-2022-departments"].type == "table"
    mart = query(settings, "select * from mart.department_summary")[0]
    assert json.loads(found["jixiao-2022-departments"].data) == [{
        "部门编码": "PY-DPF", "部门名称": "广州市番禺区残疾人联合会", "工作簿": SEED_WORKBOOK.name, "状态": "已载入",
        "得分": fmt_score(mart["total_score"]), "等级": mart["grade"], "执行率": fmt_percent(mart["execution_rate"]),
        "错误": 0, "警告": summary.warnings,
    }]
    markdown = found["jixiao-2022-reports"].data
    index = settings.out_dir / "2022" / "PY-DPF" / "index.html"
    assert f"[index.html]({index.resolve().as_uri()})" in markdown
    assert f"[validation.html]({(settings.out_dir / '2022' / 'validation.html').resolve().as_uri()})" in markdown
    assert "`reconcile.project_spent_yuan`" in markdown  # the seed's 3,546.25 against 3,456.25
    assert summary.run_id in markdown


def test_a_rejected_workbook_ends_partial_and_the_others_load(seed_raw, settings_for, prefect_api_url):
    write_workbook(BROKEN, seed_raw / "2022" / "测试局.xlsx")
    settings = settings_for(seed_raw)
    state = run_state(settings)
    assert (state.type.value, state.name) == ("COMPLETED", "Partial")
    assert "测试局.xlsx（PY-BAD）" in state.message and "PY-DPF" in state.message
    assert state.result().loaded == ("PY-DPF",)
    assert [r["dept_code"] for r in query(settings, "select dept_code from mart.department_summary")] == ["PY-DPF"]

    table = json.loads(artifacts(state.state_details.flow_run_id)["jixiao-2022-departments"].data)
    assert [(r["部门编码"], r["状态"], r["得分"]) for r in table] == [
        ("PY-BAD", "被拒收", "—"), ("PY-DPF", "已载入", fmt_score(query(
            settings, "select total_score from mart.department_summary")[0]["total_score"]))]
    assert table[0]["错误"] >= 1

    # the command line says the same with its exit status
    rerun = subprocess.run(
        [sys.executable, "-m", "jixiao.cli", "run", "--year", "2022", "--raw", str(seed_raw), "--warehouse",
         str(settings.warehouse), "--out", str(settings.out_dir), "--formats", "html", "--force"],
        env={**os.environ, "PREFECT_API_URL": prefect_api_url}, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert "测试局.xlsx（PY-BAD）" in rerun.stdout
    # Its log warns of nothing but the workbook: no Prefect warning that nobody can act on.
    warnings = [line for line in (rerun.stdout + rerun.stderr).splitlines() if "| WARNING |" in line]
    assert warnings == [], warnings


def test_a_run_deletes_nothing_outside_its_own_outputs(seed_raw, settings_for, run_flow):
    """Beside the warehouse and the reports lie an operator's files, some of them old: a run, a rerun
    and a forced rerun leave every one of them as it was."""
    settings = settings_for(seed_raw)
    two_days_ago = time.time() - 2 * 86400
    theirs = [settings.warehouse.parent / ".reads" / "20200101T000000-dead" / "departments.pickle",
              settings.warehouse.parent / "shared" / "raw" / "番禺区残联_2022.xlsx",
              settings.warehouse.parent / "notes.txt", settings.out_dir / "2022" / "PY-DPF" / "批注.docx",
              settings.out_dir / "说明.md", settings.raw_dir / "2022" / "~$番禺区残联_2022.xlsx"]
    for path in theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(path.name.encode())
        os.utime(path, (two_days_ago, two_days_ago))
        os.utime(path.parent, (two_days_ago, two_days_ago))
    before = {p: p.read_bytes() for p in settings.raw_dir.rglob("*") if p.is_file()}
    assert run_flow(settings).loaded == ("PY-DPF",)
    assert run_flow(settings).skipped
    assert run_flow(dataclasses.replace(settings, force=True)).loaded == ("PY-DPF",)
    assert [p for p in theirs if not p.exists()] == []
    assert {p: p.read_bytes() for p in settings.raw_dir.rglob("*") if p.is_file()} == before


def test_a_workbook_still_being_copied_is_retried(raw_dir, prefect_server):
    (raw_dir / "2022").mkdir()
    target = raw_dir / "2022" / SEED_WORKBOOK.name
    source = SEED_WORKBOOK.read_bytes()

    def copy_slowly():
        with target.open("wb") as out:
            for start in range(0, len(source), 1024):  # 15 KB over about 1.5 s
                out.write(source[start:start + 1024])
                out.flush()
                time.sleep(0.1)

    from jixiao.settings import Settings

    copying = threading.Thread(target=copy_slowly)
    copying.start()
    time.sleep(0.05)

    @flow
    def settle():
        return wait_for_workbooks.with_options(retry_delay_seconds=0.1)(Settings(2022, raw_dir), "run", return_state=True)

    state = settle()
    copying.join()
    assert state.is_completed() and state.result() == [target]
    with get_client(sync_client=True) as client:
        task_run = client.read_task_run(state.state_details.task_run_id)
    assert task_run.run_count >= 2  # the first attempt saw the file grow


@pytest.mark.parametrize("error, transient", [
    (InputsChanging("x.xlsx"), True), (PermissionError("locked by Excel"), True),
    (WarehouseLocked("held"), True), (ValueError("a bug"), False), (KeyError("a bug"), False),
])
def test_only_transient_failures_are_retried(error, transient):
    assert is_transient(None, None, Failed(data=error)) is transient
