"""The command line and the README stay in step (sqlite-utils tests its docs the same way)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jixiao.cli import app
from jixiao.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
OPERATIONS = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")  # holds the option table
runner = CliRunner()


def test_every_option_in_the_readme_table_exists():
    documented = set(re.findall(r"^\| `(--[a-z-]+)` \|", OPERATIONS, flags=re.M))
    assert {"--year", "--dept", "--raw", "--warehouse", "--out"} <= documented
    help_text = runner.invoke(app, ["run", "--help"], terminal_width=200).output
    for option in documented:
        assert option in help_text, option


def test_the_readme_synopsis_matches_the_commands():
    synopsis = re.findall(r"^(?:\.venv/bin/)?jixiao (\w+) (?:--|\[)", README, flags=re.M)
    assert "run" in synopsis
    listed = runner.invoke(app, ["--help"], terminal_width=200).output
    for command in synopsis:
        assert command in listed, command


def test_ci_runs_the_readme_test_command_exactly():
    test_lines = [line for line in README.splitlines() if "pytest" in line and line.startswith("python3 -m venv")]
    assert len(test_lines) == 1
    assert test_lines[0] in (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_usage_errors_exit_2(tmp_path):
    missing_year = runner.invoke(app, ["run", "--raw", str(tmp_path)])
    assert missing_year.exit_code == 2
    no_folder = runner.invoke(app, ["run", "--year", "2022", "--raw", str(tmp_path)])
    assert no_folder.exit_code == 2
    assert "2022" in no_folder.output


def test_an_unknown_rule_set_is_a_usage_error_that_records_nothing(tmp_path):
    (tmp_path / "raw" / "2022").mkdir(parents=True)
    warehouse = tmp_path / "warehouse" / "jixiao.duckdb"
    result = runner.invoke(app, ["run", "--year", "2022", "--raw", str(tmp_path / "raw"), "--warehouse", str(warehouse),
                                 "--rules", "nosuch"], terminal_width=200)
    assert result.exit_code == 2
    assert "nosuch" in result.output and "panyu_share" in result.output
    assert not warehouse.exists()  # no run recorded, no department marked stale


def _jixiao(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("jixiao")), *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **env})


@pytest.mark.slow
def test_a_corrupt_warehouse_or_a_dead_prefect_api_exits_4_with_a_message_and_a_log(seed_raw, tmp_path, prefect_api_url):
    corrupt = tmp_path / "corrupt" / "jixiao.duckdb"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"not a database " * 1000)
    before = corrupt.read_bytes()
    run = _jixiao("run", "--year", "2022", "--raw", str(seed_raw), "--warehouse", str(corrupt),
                  "--out", str(tmp_path / "out"), "--formats", "html", env={"PREFECT_API_URL": prefect_api_url})
    shown = run.stdout + run.stderr
    assert run.returncode == 4, shown
    assert "数据仓库文件无法打开或已损坏" in shown and "Traceback" not in shown
    logs = list(corrupt.parent.glob("jixiao-error-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text(encoding="utf-8")
    assert corrupt.read_bytes() == before  # left as it was, for whoever restores it

    dead = _jixiao("run", "--year", "2022", "--raw", str(seed_raw), "--warehouse", str(tmp_path / "w" / "j.duckdb"),
                   "--out", str(tmp_path / "w" / "reports"),
                   "--formats", "none", env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert dead.returncode == 4, dead.stdout + dead.stderr
    assert "无法连接 Prefect 服务器" in dead.stdout and "Traceback" not in dead.stdout + dead.stderr


def test_jixiao_serve_without_a_reachable_server_exits_4_with_a_message_and_a_log(seed_raw, tmp_path):
    warehouse = tmp_path / "w" / "jixiao.duckdb"
    serve = _jixiao("serve", "--raw", str(seed_raw), "--warehouse", str(warehouse),
                    env={"PREFECT_API_URL": "http://127.0.0.1:9/api", "COLUMNS": "400"})
    shown = serve.stdout + serve.stderr
    assert serve.returncode == 4, shown
    assert "无法连接 Prefect 服务器" in shown and "prefect server start" in shown and "Traceback" not in shown
    logs = list(warehouse.parent.glob("jixiao-error-*.log"))
    assert len(logs) == 1 and "ConnectError" in logs[0].read_text(encoding="utf-8")


def _loaded(seed_raw: Path, tmp_path: Path, api: str, formats: str) -> tuple[Path, tuple[str, ...]]:
    """A warehouse the seed was loaded into by `jixiao run`, and the arguments of that run."""
    warehouse = tmp_path / "warehouse" / "jixiao.duckdb"
    common = ("run", "--year", "2022", "--raw", str(seed_raw), "--warehouse", str(warehouse),
              "--out", str(tmp_path / "out"), "--formats", formats)
    assert _jixiao(*common, env={"PREFECT_API_URL": api}).returncode == 0
    return warehouse, common


@pytest.mark.slow
def test_an_unknown_dept_is_a_usage_error_that_changes_no_department(seed_raw, tmp_path, prefect_api_url):
    from jixiao.settings import Settings
    from tests.conftest import query

    warehouse, common = _loaded(seed_raw, tmp_path, prefect_api_url, "html")
    settings = Settings(2022, seed_raw, warehouse, tmp_path / "out")
    status = "select * from audit.department_status order by all"
    marts = "select * exclude (run_id) from mart.department_summary order by all"
    before = query(settings, status), query(settings, marts)
    run = _jixiao(*common, "--dept", "NOPE", "--force", env={"PREFECT_API_URL": prefect_api_url})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "NOPE" in run.stdout and "Traceback" not in run.stdout + run.stderr
    assert (query(settings, status), query(settings, marts)) == before


@pytest.mark.slow
def test_a_warehouse_of_a_newer_schema_is_refused_and_left_as_it_was(seed_raw, tmp_path, prefect_api_url):
    import duckdb

    warehouse, common = _loaded(seed_raw, tmp_path, prefect_api_url, "none")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into audit.schema_migrations (version, name) values (999, 'from_the_future')")
    before = warehouse.read_bytes()
    run = _jixiao(*common, "--force", env={"PREFECT_API_URL": prefect_api_url})
    assert run.returncode == 4, run.stdout + run.stderr
    assert "更新版本的 jixiao" in run.stdout and "Traceback" not in run.stdout + run.stderr
    assert warehouse.read_bytes() == before


@pytest.mark.slow
def test_out_of_memory_in_the_warehouse_exits_4_naming_memory_not_a_corrupt_file(seed_raw, tmp_path, prefect_api_url):
    warehouse = tmp_path / "w" / "jixiao.duckdb"
    run = _jixiao("run", "--year", "2022", "--raw", str(seed_raw), "--warehouse", str(warehouse),
                  "--out", str(tmp_path / "out"), "--formats", "html",
                  env={"PREFECT_API_URL": prefect_api_url, "JIXIAO_DUCKDB_MEMORY": "1MB"})
    shown = run.stdout + run.stderr
    assert run.returncode == 4, shown
    assert "内存不足" in shown and "JIXIAO_DUCKDB_MEMORY" in shown and "损坏" not in shown
    assert "OutOfMemory" in next(warehouse.parent.glob("jixiao-error-*.log")).read_text(encoding="utf-8")
