"""The year's validation report (HTML grouped by department, errors first; CSV for Excel), always of
every input of the year, and stale marking of a rejected department's kept data (audit.department_status)."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil

import polars as pl
import pytest

from jixiao.domain import Finding
from jixiao.publish.validation_report import (
    CSV_COLUMNS,
    department_lines,
    finding_lines,
    write_validation_report,
)
from jixiao_synth.workbook import Project, write_workbook
from tests.conftest import SEED_WORKBOOK, query
from tests.test_other_departments import EDU, PLAIN
from tests.workbook_files import edit

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

FINDING_COLUMNS = ["run_id", "year", "dept_code", "file", "sheet", "cell", "severity", "rule", "message", "value",
                   "project_key"]


def _findings(*found: Finding) -> pl.DataFrame:
    rows = [{**f.as_row(), "run_id": "r", "year": 2022} for f in found]
    return pl.DataFrame(rows, schema={c: pl.Int32 if c == "year" else pl.String for c in FINDING_COLUMNS})


def _statuses(*rows: dict) -> pl.DataFrame:
    schema = {"year": pl.Int32, "dept_code": pl.String, "last_file": pl.String, "is_stale": pl.Boolean,
              "loaded_run_id": pl.String}
    return pl.DataFrame(list(rows), schema=schema)


def _dept(file: str, code: str | None, *, ignored: tuple[str, ...] = (), forms: bool = False) -> dict:
    """An input as sql/audit/year_inputs.sql gives it."""
    return {"src_file": file, "dept_code": code, "ignored_sheets": list(ignored), "forms": forms}


def _inputs(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={"src_file": pl.String, "dept_code": pl.String,
                                            "ignored_sheets": pl.List(pl.String), "forms": pl.Boolean})


WARN = Finding("warning", "project.overspent", "支出金额大于预算金额", "a.xlsx", "项目支出", "D10", "9", "A")
ERR_D9 = Finding("error", "number.not_a_number", "支出金额应为数字", "a.xlsx", "项目支出", "D9", "六百万", "A")
ERR_C10 = Finding("error", "number.not_a_number", "预算金额应为数字", "a.xlsx", "项目支出", "C10", "<b>x</b>", "A")
BROKEN = Finding("error", "workbook.damaged", "文件不完整或已损坏", "b.xlsx")
OTHER = Finding("warning", "sheet.hidden", "该工作表是隐藏的", "c.xlsx", "报告数值", None, None, "C")


def test_lines_are_grouped_rejected_first_and_errors_first():
    departments = _inputs(_dept("c.xlsx", "C"), _dept("a.xlsx", "A"), _dept("b.xlsx", None))
    findings = _findings(OTHER, WARN, ERR_C10, ERR_D9, BROKEN)
    summary = department_lines(departments, findings, _statuses(
        {"year": 2022, "dept_code": "A", "last_file": "a.xlsx", "is_stale": True, "loaded_run_id": "r0"}))
    assert summary.select("dept_code", "outcome", "errors", "warnings").rows() == [
        ("A", "被拒收：沿用上次载入的数据（已标记为过期）", 2, 1),
        ("（未知）", "被拒收：数据仓库中无该部门数据", 1, 0),
        ("C", "已载入", 0, 1),
    ]
    assert "r0" in summary["note"][0]
    lines = finding_lines(findings, summary)
    assert lines.select("file", "severity", "cell").rows() == [
        ("a.xlsx", "错误", "D9"), ("a.xlsx", "错误", "C10"), ("a.xlsx", "警告", "D10"),
        ("b.xlsx", "错误", ""), ("c.xlsx", "警告", ""),
    ]


def test_the_files(tmp_path):
    departments = _inputs(_dept("a.xlsx", "A", ignored=("填表说明",)))
    paths = write_validation_report(tmp_path, 2022, "run-1", departments, _findings(WARN, ERR_D9, ERR_C10), _statuses())
    assert paths == [tmp_path / "2022" / "validation.html", tmp_path / "2022" / "validation.csv"]
    raw = paths[1].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(CSV_COLUMNS.values())
    assert [(r["单元格"], r["级别"], r["填写值"]) for r in rows] == [("D9", "错误", "六百万"), ("C10", "错误", "<b>x</b>"),
                                                            ("D10", "警告", "9")]
    html = paths[0].read_text(encoding="utf-8")
    assert "A · a.xlsx（被拒收：数据仓库中无该部门数据）" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "未读取的工作表：填表说明" in html
    assert html == paths[0].read_text(encoding="utf-8")
    again = write_validation_report(tmp_path, 2022, "run-1", departments, _findings(WARN, ERR_D9, ERR_C10), _statuses())
    assert again[0].read_bytes() == html.encode("utf-8")  # deterministic: comparable across runs


def test_inputs_without_findings_are_counted_not_listed(tmp_path):
    departments = _inputs(_dept("a.xlsx", "A"), *(_dept(f"clean{i}.xlsx", f"C{i}") for i in range(3)))
    html, _ = write_validation_report(tmp_path, 2022, "run-1", departments, _findings(WARN), _statuses())
    text = html.read_text(encoding="utf-8")
    assert "共 4 份，已载入 4 份，被拒收 0 份；另有 3 份已载入且未发现问题，未逐一列出" in text
    assert "a.xlsx" in text and "clean0.xlsx" not in text


def test_a_page_lists_the_first_rows_and_says_where_the_rest_are(tmp_path, monkeypatch):
    from jixiao.publish import validation_report

    monkeypatch.setattr(validation_report, "SHOWN_ROWS", 2)
    departments = _inputs(_dept("a.xlsx", "A"), _dept("b.xlsx", None), _dept("c.xlsx", "C"))
    found = _findings(WARN, ERR_D9, ERR_C10, BROKEN, dataclasses.replace(WARN, file="c.xlsx", dept_code="C"))
    html, csv_path = write_validation_report(tmp_path, 2022, "run-1", departments, found, _statuses())
    text = html.read_text(encoding="utf-8")
    assert "另有 1 份工作簿未在此页列出" in text and "另有 3 条问题未在此页列出" in text
    assert "六百万" in text and "&lt;b&gt;x&lt;/b&gt;" in text and "c.xlsx" not in text  # errors first
    rows = list(csv.DictReader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 5  # the CSV has every finding


def test_a_clean_run(tmp_path):
    html, csv_path = write_validation_report(tmp_path, 2022, "run-1", _inputs(_dept("a.xlsx", "A")), _findings(),
                                              _statuses())
    assert "未发现任何问题" in html.read_text(encoding="utf-8")
    assert csv_path.read_bytes().decode("utf-8-sig").splitlines() == [",".join(CSV_COLUMNS.values())]


# --- through the flow: a department whose corrected workbook later breaks -------------------


@pytest.fixture
def edu_raw(raw_dir):
    write_workbook(EDU, raw_dir / "2022" / "教育局.xlsx", PLAIN)
    return raw_dir


@pytest.fixture
def run_data(prefect_server):
    """The real flow, drawing no department reports: this is about the data and the validation report."""
    from flows.year import run_year

    return lambda s: run_year(s.year, s.raw_dir, s.warehouse, s.out_dir, force=s.force, formats=[])


def _status(settings) -> dict:
    return query(settings, "select * from audit.department_status where dept_code = 'PY-EDU'")[0]


def test_a_rejected_department_keeps_its_data_marked_stale(edu_raw, settings_for, run_data):
    settings = settings_for(edu_raw)
    first = run_data(settings)
    good = query(settings, "select * from mart.project_spending order by all")
    assert (_status(settings)["last_status"], _status(settings)["is_stale"]) == ("loaded", False)

    workbook = edu_raw / "2022" / "教育局.xlsx"
    edit(workbook, workbook, 项目支出={"D4": "六百万"})
    second = run_data(settings)
    assert second.exit_code == 1
    assert query(settings, "select * from mart.project_spending order by all") == good
    status = _status(settings)
    assert (status["last_status"], status["is_stale"], status["loaded_run_id"], status["stale_since_run_id"]) == (
        "rejected", True, first.run_id, second.run_id)
    html = (settings.out_dir / "2022" / "validation.html").read_text(encoding="utf-8")
    assert "沿用上次载入的数据（已标记为过期）" in html and "六百万" in html

    third = run_data(dataclasses.replace(settings, force=True))  # still broken: stale since the second run
    assert (_status(settings)["stale_since_run_id"], _status(settings)["last_run_id"]) == (second.run_id, third.run_id)

    fixed = dataclasses.replace(EDU, projects=(*EDU.projects[:2], Project("任务2：校舍维护", "校舍维修改造", 800.0, 700.0)))
    write_workbook(fixed, workbook, PLAIN)
    fourth = run_data(settings)
    status = _status(settings)
    assert (status["is_stale"], status["loaded_run_id"], status["stale_since_run_id"]) == (False, fourth.run_id, None)
    rows = query(settings, "select spent_yuan from mart.project_spending where project = '校舍维修改造'")
    assert str(rows[0]["spent_yuan"]) == "7000000.00"


def _csv(settings) -> list[dict]:
    with (settings.out_dir / "2022" / "validation.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_page_is_the_years_whichever_inputs_the_last_run_read(edu_raw, settings_for, run_data):
    """A --dept run and a nightly read some inputs; the page and the CSV still hold every input's findings,
    each from the run that last read it."""
    shutil.copy(SEED_WORKBOOK, edu_raw / "2022" / SEED_WORKBOOK.name)
    settings = settings_for(edu_raw)
    run_data(settings)
    everything = sorted(tuple(r.values()) for r in _csv(settings))
    seed_found = [r for r in _csv(settings) if r["部门编码"] == "PY-DPF"]
    assert seed_found  # the reference report's slips are reconciliation warnings

    run_data(dataclasses.replace(settings, departments=("PY-EDU",), force=True))
    assert sorted(tuple(r.values()) for r in _csv(settings)) == everything
    page = (settings.out_dir / "2022" / "validation.html").read_text(encoding="utf-8")
    assert "未发现任何问题" not in page and "共 2 份" in page

    workbook = edu_raw / "2022" / "教育局.xlsx"
    edit(workbook, workbook, 项目支出={"D4": "六百万"})
    nightly = run_data(settings)  # reads the changed workbook only; the reference one stands
    assert query(settings, "select count(*) as n from audit.run_inputs where run_id = ? and was_read",
                 [nightly.run_id]) == [{"n": 1}]
    found = _csv(settings)
    assert [r for r in found if r["部门编码"] == "PY-DPF"] == seed_found
    assert any(r["部门编码"] == "PY-EDU" and r["填写值"] == "六百万" and r["级别"] == "错误" for r in found)

    # A --dept run of the other department, drawing: the rejected one stays rejected on both pages.
    from flows.year import run_year

    run_year(2022, settings.raw_dir, settings.warehouse, settings.out_dir, departments=["PY-DPF"], force=True,
             formats=["html"])
    assert _csv(settings) == found
    index = (settings.out_dir / "2022" / "index.html").read_text(encoding="utf-8")
    row = index[index.index("PY-EDU"):]
    assert "本次提交被拒收" in row[: row.index("</tr>")]

    workbook.unlink()  # gone from the year folder: gone from the page
    run_data(settings)
    assert {r["文件"] for r in _csv(settings)} == {SEED_WORKBOOK.name}
