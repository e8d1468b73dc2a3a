"""The bureau's year page: its query on a real DuckDB file, and the table built from its rows."""

from __future__ import annotations

import re
from decimal import Decimal as D

import duckdb
import polars as pl
import pytest

from jixiao.publish import bureau_index

SUMMARY_DDL = """
create schema mart; create schema audit;
create table mart.department_summary (
    year integer, dept_code varchar, dept_name varchar, total_score decimal(18, 10), grade varchar,
    execution_rate decimal(18, 10), indicators_total integer, indicators_ge_100 integer, indicators_90_100 integer,
    indicators_lt_90 integer, project_spend_rate decimal(18, 10), src_file varchar, run_id varchar);
create table audit.validation_issues (run_id varchar, year integer, dept_code varchar, severity varchar);
"""


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(SUMMARY_DDL)
        con.executemany(
            "insert into mart.department_summary values (?, ?, ?, ?, ?, ?, 18, 11, 3, 4, 0.97, 'x.xlsx', ?)",
            [
                (2021, "PY-DPF", "区残联", D("88.5"), "良", D("0.95"), "r1"),
                (2022, "PY-DPF", "区残联", D("91.5407"), "优", D("0.9765021057"), "r2"),
                (2022, "PY-EDU", "教育局", D("70.004"), "中", D("0.85"), "r3"),
            ],
        )
        con.executemany("insert into audit.validation_issues values (?, 2022, ?, 'warning')",
                        [("r2", "PY-DPF"), ("r2", "PY-DPF"), ("r-old", "PY-DPF"), ("r3", "PY-EDU")])
    return path


def test_read_year_joins_last_year_and_the_loading_runs_findings(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = {r["dept_code"]: r for r in bureau_index.read_year(con, 2022).to_dicts()}
    assert set(rows) == {"PY-DPF", "PY-EDU"}
    assert (rows["PY-DPF"]["previous_total_score"], rows["PY-DPF"]["previous_execution_rate"]) == (D("88.5"), D("0.95"))
    assert rows["PY-EDU"]["previous_total_score"] is None
    # Findings of the run that loaded the marts, not of older runs.
    assert (rows["PY-DPF"]["findings"], rows["PY-EDU"]["findings"]) == (2, 1)


def test_read_year_of_an_empty_warehouse(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        assert bureau_index.read_year(con, 2022).height == 0


def cells(html: str, text: str) -> list[str]:
    at = html.index(text)
    row = html[html.rindex("<tr", 0, at): html.index("</tr>", at)]
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_index_table(warehouse, tmp_path):
    (tmp_path / "2022" / "PY-DPF").mkdir(parents=True)
    (tmp_path / "2022" / "PY-DPF" / "index.html").write_text("", encoding="utf-8")
    (tmp_path / "2022" / "PY-DPF" / "PY-DPF_2022.docx").write_bytes(b"")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = bureau_index.read_year(con, 2022)
    rejected = [{"dept_code": "PY-EDU", "dept_name": "教育局", "file": "教育局.xlsx", "errors": 3},
                {"dept_code": None, "dept_name": None, "file": "<img src=x>.xlsx", "errors": 1}]
    html = bureau_index.build_year_index(rows, 2022, tmp_path / "2022", rejected, "运行编号 r9").as_raw_html()

    assert cells(html, "PY-DPF") == ["区残联", "PY-DPF", "91.54", "优", "97.65%", "18", "11", "3", "4", "2",
                                     "88.50", "+3.04", "95.00%", "+2.65", "已载入", "Word"]
    # Only pages that exist are linked.
    assert '<a href="PY-DPF/index.html">区残联</a>' in html and 'href="PY-EDU/' not in html
    edu = cells(html, "PY-EDU")
    assert edu[2] == "70.00" and edu[10:12] == ["—", "—"] and edu[14] == "本次提交被拒收，显示上次载入的数据"
    # A rejected workbook with no data in the warehouse is still listed, its name escaped.
    assert cells(html, "&lt;img src=x&gt;.xlsx")[-2] == "本次提交被拒收，未载入"
    assert "<img" not in html
    assert "共3个部门" in html


def test_only_files_on_disk_are_linked(warehouse, tmp_path):
    # The index is drawn after the departments' folders, which hold only what their last drawing wrote.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = bureau_index.read_year(con, 2022)
    (tmp_path / "2022" / "PY-EDU").mkdir(parents=True)
    (tmp_path / "2022" / "PY-EDU" / "PY-EDU_2022.xlsx").write_bytes(b"")
    html = bureau_index.build_year_index(rows, 2022, tmp_path / "2022", [], "运行编号 r9").as_raw_html()

    assert "PY-DPF/" not in html and '<a href="PY-EDU/index.html">' not in html
    assert cells(html, "PY-EDU")[-1] == "Excel" and "Word" not in html


def test_the_validation_page_is_linked_when_on_disk_or_being_written(warehouse, tmp_path):
    # The run writes validation.html in a thread beside the drawing: the index may come first.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = bureau_index.read_year(con, 2022)
    link = '<a href="validation.html">'
    page = lambda out, **kw: bureau_index.write_year_index(rows, out, 2022, [], "r9", **kw).read_text(encoding="utf-8")
    assert link not in page(tmp_path / "none")
    assert link in page(tmp_path / "writing", validation_written=True)
    (tmp_path / "written" / "2022").mkdir(parents=True)
    (tmp_path / "written" / "2022" / "validation.html").write_text("", encoding="utf-8")
    assert link in page(tmp_path / "written")

def test_no_year_over_year_columns_without_last_year(tmp_path):
    rows = pl.DataFrame([{
        "year": 2022, "dept_code": "A", "dept_name": "甲局", "total_score": D("90"), "grade": "优",
        "execution_rate": D("1"), "indicators_total": 1, "indicators_ge_100": 1, "indicators_90_100": 0,
        "indicators_lt_90": 0, "project_spend_rate": D("1"), "src_file": "a.xlsx", "findings": 0,
        "previous_total_score": None, "previous_execution_rate": None,
    }])
    html = bureau_index.build_year_index(rows, 2022, tmp_path, [], "运行编号 r").as_raw_html()
    assert "2021年得分" not in html and "得分增减" not in html
    assert cells(html, "甲局")[:5] == ["甲局", "A", "90.00", "优", "100.00%"]
