"""The year's project pages: a 主管部门's page is drawn again only when what it shows (its rows, the formats,
the code) changed; the year's own pages are drawn every time."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from jixiao.publish.project_report import dept_folder, write_year
from jixiao.publish.report import drawn_from

YEAR = 2022
ROLLUP = {"year": pl.Int32, "project_key": pl.String, "dept_name": pl.String, "unit_name": pl.String,
          "project": pl.String, "project_code": pl.String, "budget_yuan": pl.Decimal(18, 2),
          "spent_yuan": pl.Decimal(18, 2), "execution_rate": pl.Decimal(38, 12), "total_score": pl.Decimal(38, 12),
          "reported_total": pl.Decimal(9, 4), "grade": pl.String, "warnings": pl.Int64, "src_file": pl.String,
          "src_sheet": pl.String}
DEPARTMENTS = {"year": pl.Int32, "dept_name": pl.String, "projects": pl.Int64, "budget_yuan": pl.Decimal(38, 2),
               "spent_yuan": pl.Decimal(38, 2), "execution_rate": pl.Decimal(38, 12), "mean_score": pl.Decimal(38, 12),
               "grade_excellent": pl.Int64}


def _form(dept: str, project: str, spent: str) -> dict:
    budget, spent_ = Decimal("1000.00"), Decimal(spent)
    return {"year": YEAR, "project_key": f"name:{dept}｜{project}", "dept_name": dept, "unit_name": dept,
            "project": project, "project_code": None, "budget_yuan": budget, "spent_yuan": spent_,
            "execution_rate": spent_ / budget, "total_score": Decimal("90"), "reported_total": Decimal("90"),
            "grade": "优", "warnings": 0, "src_file": "a.xlsx", "src_sheet": "项目1"}


def _year(forms: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    rollup = pl.DataFrame(forms, schema=ROLLUP)
    departments = rollup.group_by("year", "dept_name", maintain_order=True).agg(
        pl.len().alias("projects"), pl.col("budget_yuan").sum(), pl.col("spent_yuan").sum(),
        pl.col("execution_rate").mean(), pl.col("total_score").mean().alias("mean_score"),
        pl.len().alias("grade_excellent"))
    return rollup, departments.cast(DEPARTMENTS)


def test_only_the_departments_whose_rows_changed_are_drawn_again(tmp_path):
    forms = [_form("甲局", "项目一", "900.00"), _form("甲局", "项目二", "1000.00"), _form("乙局", "项目三", "800.00")]
    first = write_year(tmp_path, YEAR, *_year(forms), "运行编号 r1", ("html", "xlsx"), "code-1")
    folder = tmp_path / str(YEAR) / "projects"
    pages = {name: folder / dept_folder(name) / "index.html" for name in ("甲局", "乙局")}
    assert set(pages.values()) <= set(first) and all(drawn_from(p) for p in pages.values())

    again = write_year(tmp_path, YEAR, *_year(forms), "运行编号 r2", ("html", "xlsx"), "code-1")
    assert not set(pages.values()) & set(again)  # nothing changed: the departments' pages stand
    assert folder / "index.html" in again and "r2" in (folder / "index.html").read_text(encoding="utf-8")

    forms[2] = _form("乙局", "项目三", "850.00")  # one form corrected
    corrected = write_year(tmp_path, YEAR, *_year(forms), "运行编号 r3", ("html", "xlsx"), "code-1")
    assert pages["乙局"] in corrected and pages["甲局"] not in corrected
    assert "r3" in pages["乙局"].read_text(encoding="utf-8") and "r1" in pages["甲局"].read_text(encoding="utf-8")

    forms[1] = _form("乙局", "项目二", "1000.00")  # a project moved to another 主管部门: both pages change
    moved = write_year(tmp_path, YEAR, *_year(forms), "运行编号 r4", ("html", "xlsx"), "code-1")
    assert {pages["甲局"], pages["乙局"]} <= set(moved)

    assert set(pages.values()) <= set(write_year(tmp_path, YEAR, *_year(forms), "r5", ("html", "xlsx"), "code-2"))
    assert set(pages.values()) <= set(write_year(tmp_path, YEAR, *_year(forms), "r6", ("html",), "code-2"))
    assert set(pages.values()) <= set(write_year(tmp_path, YEAR, *_year(forms), "r7", ("html", "xlsx"), "code-2"))
    (folder / dept_folder("甲局") / f"汇总表_{YEAR}.xlsx").unlink()
    redrawn = write_year(tmp_path, YEAR, *_year(forms), "r8", ("html", "xlsx"), "code-2")
    assert pages["甲局"] in redrawn and pages["乙局"] not in redrawn  # a file of the page's formats gone: drawn again
