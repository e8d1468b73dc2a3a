"""Input an attacker (or an unzipped Windows archive) hands over never stops the year.

Each test fails on the code before it: a control character in a cell made the
Word drawing raise for the whole run, a file name not in UTF-8 crashed the run
before anything was recorded.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import pytest

from flows.year import run_year
from jixiao.ingest.sheets import DEPARTMENT_SHEETS
from jixiao.settings import Settings
from jixiao_synth.synth import synthesize
from tests.conftest import query
from tests.workbook_files import edit, grids

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

GBK_NAME = "残联2022.xlsx".encode("gbk")


def _district(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    synthesize(raw, 3, 2022, seed=3, broken_share=0, processes=1)
    return raw / "2022"


def _task_cell(path: Path) -> tuple[str, str, str]:
    """The tasks sheet of a workbook, the A1 reference of its first task's name, and that name."""
    sheet, grid = next((name, grid) for name, grid in grids(path).items() if DEPARTMENT_SHEETS.spec_for(name).key == "tasks")
    header = next(r for r, row in enumerate(grid) if any("任务" in str(v) for v in row[1:]))
    column = next(c for c, v in enumerate(grid[header]) if "任务" in str(v))
    return sheet, f"{chr(65 + column)}{header + 2}", grid[header + 1][column]


def test_control_characters_and_odd_names_are_findings_not_a_failed_year(tmp_path, prefect_server):
    year_dir = _district(tmp_path)
    # D0001: a control character in a task's name and in its file name; D0002: a GBK file name.
    first = year_dir / "D0001.xlsx"
    sheet, ref, task = _task_cell(first)
    edit(first, year_dir / "D0001\x07.xlsx", **{sheet: {ref: task + "\x01\x0b续"}})
    first.unlink()
    os.rename(year_dir / "D0002.xlsx", os.fsdecode(bytes(year_dir) + b"/" + GBK_NAME))
    (year_dir / os.fsdecode("说明.txt".encode("gbk"))).write_text("x")

    warehouse, out = tmp_path / "warehouse" / "jixiao.duckdb", tmp_path / "reports"
    summary = run_year(2022, tmp_path / "raw", warehouse, out, formats=["html", "docx", "xlsx"])

    assert sorted(summary.loaded) == ["D0001", "D0002", "D0003"]
    settings = Settings(2022, tmp_path / "raw", warehouse, out)
    tasks = query(settings, "select task from mart.task_outcomes where dept_code = 'D0001'")
    assert task + "续" in {r["task"] for r in tasks}
    issues = {(r["file"], r["sheet"], r["cell"], r["rule"]) for r in query(
        settings, "select file, sheet, cell, rule from audit.validation_issues")}
    assert ("D0001\\x07.xlsx", sheet, ref, "cell.control_characters") in issues
    assert ("D0001\\x07.xlsx", None, None, "file.name_unreadable") in issues
    assert ("残联2022.xlsx", None, None, "file.name_unreadable") in issues  # GBK read as GBK
    assert ("说明.txt", None, None, "workbook.not_a_workbook") in issues
    names = {r["name"] for r in query(settings, "select name from audit.run_inputs")}
    assert names == {"D0001\\x07.xlsx", "残联2022.xlsx", "D0003.xlsx", "说明.txt"}
    with zipfile.ZipFile(out / "2022" / "D0001" / "D0001_2022.docx") as docx:
        assert (task + "续").encode() in docx.read("word/document.xml")

    again = run_year(2022, tmp_path / "raw", warehouse, out, formats=["html", "docx", "xlsx"])
    assert again.skipped


def test_links_pipes_and_dangling_entries_are_findings_and_never_followed(tmp_path, prefect_server):
    year_dir = _district(tmp_path)
    secrets = tmp_path / "elsewhere"
    secrets.mkdir()
    (secrets / "基本情况.csv").write_text("项目,内容\n部门名称,另一单位的机密\n", encoding="utf-8")
    os.rename(year_dir / "D0003.xlsx", secrets / "D0003.xlsx")
    (year_dir / "D0003.xlsx").symlink_to(secrets / "D0003.xlsx")  # a workbook outside the raw folder
    (year_dir / "另一单位").symlink_to(secrets, target_is_directory=True)  # a folder outside it
    (year_dir / "已删除.xlsx").symlink_to(tmp_path / "gone.xlsx")  # dangling
    (year_dir / "循环.xlsx").symlink_to(year_dir / "循环.xlsx")  # a loop
    os.mkfifo(year_dir / "管道.xlsx")  # opening it would block the run for ever
    folder = year_dir / "D0009"
    folder.mkdir()
    (folder / "基本情况.csv").symlink_to(secrets / "基本情况.csv")

    warehouse, out = tmp_path / "warehouse" / "jixiao.duckdb", tmp_path / "reports"
    summary = run_year(2022, tmp_path / "raw", warehouse, out, formats=["html"])

    assert sorted(summary.loaded) == ["D0001", "D0002"]
    settings = Settings(2022, tmp_path / "raw", warehouse, out)
    refused = {(r["file"], r["sheet"]) for r in query(
        settings, "select file, sheet from audit.validation_issues where rule = 'input.not_a_plain_file'")}
    assert refused == {("D0003.xlsx", None), ("另一单位", None), ("已删除.xlsx", None), ("循环.xlsx", None),
                       ("管道.xlsx", None), ("D0009", "基本情况")}
    names = {r["name"] for r in query(settings, "select name from audit.run_inputs")}
    assert names == {"D0001.xlsx", "D0002.xlsx", "D0003.xlsx", "另一单位", "已删除.xlsx", "循环.xlsx", "管道.xlsx",
                     "D0009/基本情况.csv"}  # each refused entry an input of its own; nothing inside the linked folder
    everything = (out / "2022" / "validation.csv").read_text(encoding="utf-8-sig")
    assert "机密" not in everything and "符号链接" in everything and "命名管道" in everything

    again = run_year(2022, tmp_path / "raw", warehouse, out, formats=["html"])
    assert again.skipped  # an unchanged link or pipe is an unchanged input (and opening none of them hangs)


def test_a_first_run_in_which_nothing_loads_finishes_with_its_pages(tmp_path, prefect_server):
    year_dir = tmp_path / "raw" / "2022"
    year_dir.mkdir(parents=True)
    (year_dir / "说明.txt").write_text("不是工作簿", encoding="utf-8")
    warehouse, out = tmp_path / "warehouse" / "jixiao.duckdb", tmp_path / "reports"
    summary = run_year(2022, tmp_path / "raw", warehouse, out, formats=["html"])
    assert summary.loaded == () and summary.rejected == ("说明.txt（部门编码未知）",)
    settings = Settings(2022, tmp_path / "raw", warehouse, out)
    assert query(settings, "select status from audit.runs") == [{"status": "partial"}]
    assert "说明.txt" in (out / "2022" / "validation.csv").read_text(encoding="utf-8-sig")


def test_formula_and_markdown_payloads_are_shown_as_text(tmp_path, prefect_server):
    from flows.outcome import run_markdown
    from tests.conftest import SEED_WORKBOOK

    year_dir = tmp_path / "raw" / "2022"
    payload = '=HYPERLINK("http://example.invalid/x","点我")'
    edit(SEED_WORKBOOK, year_dir / "区残联.xlsx", 项目支出={"D3": payload})
    warehouse, out = tmp_path / "warehouse" / "jixiao.duckdb", tmp_path / "reports"
    summary = run_year(2022, tmp_path / "raw", warehouse, out, formats=["html"])
    assert summary.rejected  # an amount that is text is an error
    with (out / "2022" / "validation.csv").open(encoding="utf-8-sig", newline="") as handle:
        values = [row["填写值"] for row in csv.DictReader(handle)]
    assert "'" + payload in values and payload not in values  # Excel shows it, does not run it

    image = "![x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    shown = run_markdown(summary, [{"file": "a.xlsx", "sheet": "项目支出", "cell": "D3", "severity": "error",
                                    "rule": "number.not_a_number", "message": "金额不是数字", "value": image}])
    row = next(line for line in shown.splitlines() if "number.not_a_number" in line)
    assert "](" not in row and "<img" not in row and "&lt;img" in row


def test_a_thousand_indicators_under_one_heading_draw_in_every_format(tmp_path, prefect_server):
    import dataclasses

    from jixiao_synth.seed import SEED_BOOK
    from jixiao_synth.workbook import Indicator, write_workbook

    many = tuple(Indicator("产出指标", "数量指标", f"指标{i}", "100例", "101例") for i in range(1000))
    year_dir = tmp_path / "raw" / "2022"
    write_workbook(dataclasses.replace(SEED_BOOK, indicators=SEED_BOOK.indicators + many), year_dir / "区残联.xlsx")
    out = tmp_path / "reports"
    summary = run_year(2022, tmp_path / "raw", tmp_path / "w" / "j.duckdb", out, formats=["html", "xlsx", "docx"])
    assert summary.loaded == ("PY-DPF",)
    with zipfile.ZipFile(out / "2022" / "PY-DPF" / "PY-DPF_2022.docx") as docx:
        document = docx.read("word/document.xml").decode()
    assert "指标999" in document and document.count('w:val="restart"') >= 2  # 产出指标 and 数量指标 merged down
    page = (out / "2022" / "PY-DPF" / "table_2_2.html").read_text(encoding="utf-8")
    assert "共1,018行，本页仅列出前500行" in page and ">指标0<" in page and ">指标999<" not in page


def test_a_drawing_that_fails_is_a_finding_and_the_rest_is_drawn(tmp_path, prefect_server):
    from tests.conftest import SEED_WORKBOOK

    year_dir = tmp_path / "raw" / "2022"
    year_dir.mkdir(parents=True)
    (year_dir / SEED_WORKBOOK.name).write_bytes(SEED_WORKBOOK.read_bytes())
    out = tmp_path / "reports"
    (out / "2022" / "PY-DPF" / "PY-DPF_2022.docx").mkdir(parents=True)  # where Word's file should go, a folder
    warehouse = tmp_path / "w" / "j.duckdb"
    summary = run_year(2022, tmp_path / "raw", warehouse, out, formats=["html", "xlsx", "docx"])
    assert summary.loaded == ("PY-DPF",) and (out / "2022" / "PY-DPF" / "PY-DPF_2022.xlsx").exists()
    settings = Settings(2022, tmp_path / "raw", warehouse, out)
    failed = query(settings, "select dept_code, message from audit.validation_issues where rule = 'publish.draw_failed'")
    assert [f["dept_code"] for f in failed] == ["PY-DPF"] and "Word" in failed[0]["message"]
    assert "publish.draw_failed" in (out / "2022" / "validation.csv").read_text(encoding="utf-8-sig")
