"""The command line and the README stay in step (sqlite-utils tests its docs the same way)."""

from __future__ import annotations

import re

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
