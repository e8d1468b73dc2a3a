"""Every layout rule of raw-workbook.md is accepted, and gives exactly the plain layout's marts.
The CSV input (a department folder of CSV files, in UTF-8 or GBK) does too.

Two departments (the bundled 区残联 and a made-up 教育局 with qualitative, not
applicable and lower-is-better indicators) are written in each tolerated layout
as separate departments of one district, run through the real flow once, and
every mart row of each is compared with the same department in the plain
layout (no titles, no merges, rates as text, amounts in 元). The unit tests
below pin what each rule does to the read, without the flow.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from flows.year import run_year
from jixiao.ingest.extract import read_department
from jixiao.ingest.read import read_workbook
from jixiao.ingest.sheets import DEPARTMENT_SHEETS
from jixiao.settings import Settings
from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import DepartmentBook, Indicator, Layout, Project, write_workbook
from tests.conftest import query
from tests.test_other_departments import EDU, PLAIN
from tests.workbook_files import to_csv_folder

# name -> the layout, each exercising a rule of the contract's "Layout that must be accepted"
LAYOUTS: dict[str, Layout] = {
    "plain": PLAIN,
    "titles_merges_percent_cells": Layout(),
    "unit_in_title_yuan": Layout(amount_unit="元"),
    "unit_in_header": Layout(title_rows=False),
    "sheet_aliases_order_unknown_sheets": Layout(sheet_names="aliases", reverse_sheets=True, extra_sheets=True),
    "hidden_sheets": Layout(hidden_sheets=("报告数值", "重点工作任务")),
    "split_table_repeated_headers": Layout(repeat_header_every=5),
    "blank_rows": Layout(blank_row_every=4),
    "hidden_rows": Layout(hidden_row_every=3),
    "header_synonyms_spacing_brackets": Layout(header_variants=True),
    "numbers_as_text": Layout(numbers="text", percent_cells=False),
    "thousands_separators": Layout(numbers="thousands", amount_unit="元"),
    "full_width_digits": Layout(numbers="full_width", percent_cells=False),
    "rates_in_percent_points": Layout(rate_points=True),
    "formulas_cached_values": Layout(formulas=True),
    "formulas_with_text_rates": Layout(formulas=True, percent_cells=False, title_rows=False),
    "extra_columns": Layout(extra_columns=True),
    "task_heading_rows": Layout(task_headings=True),
    "task_headings_across_page_breaks": Layout(task_headings=True, repeat_header_every=3),
    "notes_and_signatures": Layout(signature_rows=True),
    "everything_at_once": Layout(
        sheet_names="aliases", reverse_sheets=True, extra_sheets=True, hidden_sheets=("报告数值",),
        header_variants=True, numbers="full_width", percent_cells=False, repeat_header_every=6, blank_row_every=4,
        hidden_row_every=5, extra_columns=True, formulas=True, task_headings=True, signature_rows=True,
        amount_unit="元"),
}
# A department folder of CSV files, one per sheet, saved from the titled and merged layout:
# name -> (encoding, delimiter)
CSV_FOLDERS = {"csv_utf8": ("utf-8", ","), "csv_gbk": ("gbk", ","), "csv_utf8_bom_tabs": ("utf-8-sig", "\t")}
BOOKS = {"DPF": SEED_BOOK, "EDU": EDU}
MARTS = ("indicator_completion", "project_spending", "task_spending", "score_sheet", "department_summary")
# Where a row came from differs by layout (a title row shifts every row); what it says must not.
SOURCE_COLUMNS = {"dept_code", "run_id", "src_file", "src_sheet", "src_row"}


def _code(book: str, layout: str) -> str:
    return f"{book}-{[*LAYOUTS, *CSV_FOLDERS].index(layout):02d}"


def _as(book: DepartmentBook, code: str) -> DepartmentBook:
    return dataclasses.replace(book, info={**book.info, "部门编码": code})


@pytest.fixture(scope="module")
def district(prefect_server, tmp_path_factory) -> tuple[Settings, object]:
    root = tmp_path_factory.mktemp("layouts")
    for book_name, book in BOOKS.items():
        for name, layout in LAYOUTS.items():
            code = _code(book_name, name)
            write_workbook(_as(book, code), root / "raw" / "2022" / f"{code}_{name}.xlsx", layout)
        for name, (encoding, delimiter) in CSV_FOLDERS.items():
            code = _code(book_name, name)
            source = write_workbook(_as(book, code), root / "csv-source" / f"{code}.xlsx", Layout())
            to_csv_folder(source, root / "raw" / "2022" / f"{code}_{name}", encoding, delimiter)
    settings = Settings(2022, root / "raw", root / "jixiao.duckdb", root / "reports")
    summary = run_year(2022, settings.raw_dir, settings.warehouse, settings.out_dir, formats=[])
    return settings, summary


def _mart(settings: Settings, mart: str, code: str) -> list[dict]:
    rows = query(settings, f"select * from mart.{mart} where dept_code = ? order by all", [code])
    return [{k: v for k, v in row.items() if k not in SOURCE_COLUMNS} for row in rows]


def test_every_layout_loads(district):
    _, summary = district
    assert summary.rejected == ()
    assert set(summary.loaded) == {_code(b, n) for b in BOOKS for n in [*LAYOUTS, *CSV_FOLDERS]}


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("layout", [n for n in [*LAYOUTS, *CSV_FOLDERS] if n != "plain"])
def test_layout_gives_the_plain_marts(district, layout, book):
    settings, _ = district
    for mart in MARTS:
        plain = _mart(settings, mart, _code(book, "plain"))
        assert plain, mart
        assert _mart(settings, mart, _code(book, layout)) == plain, mart


def test_marts_hold_the_figures_not_the_keyboard(district):
    settings, _ = district
    full_width = _code("EDU", "full_width_digits")
    rows = query(settings, "select target_text, actual_text from mart.indicator_completion "
                           "where dept_code = ? and indicator = '家长满意度'", [full_width])
    assert rows == [{"target_text": "≥90%", "actual_text": "92.5%"}]


# --- what each rule does to the read ------------------------------------------------------------


def _write(tmp_path: Path, layout: Layout, book: DepartmentBook = SEED_BOOK) -> Path:
    return write_workbook(book, tmp_path / "2022" / "dept.xlsx", layout)


def test_hidden_sheets_are_read_with_a_warning(tmp_path):
    dept = read_department(_write(tmp_path, Layout(hidden_sheets=("报告数值",))), 2022)
    hidden = [f for f in dept.findings if f.rule == "sheet.hidden"]
    assert [(f.severity, f.sheet) for f in hidden] == [("warning", "报告数值")]
    assert len(dept.rows["reported"]) == len(SEED_BOOK.reported)


def test_hidden_rows_are_read_with_one_warning_per_sheet(tmp_path):
    dept = read_department(_write(tmp_path, Layout(hidden_row_every=3)), 2022)
    hidden = {f.sheet: f for f in dept.findings if f.rule == "sheet.hidden_rows"}
    assert set(hidden) == {"基本情况", "重点工作任务", "绩效指标", "项目支出", "自评得分", "报告数值"}
    assert hidden["项目支出"].severity == "warning" and "第 5、8、11" in hidden["项目支出"].message
    assert len(dept.rows["projects"]) == len(SEED_BOOK.projects)


def test_unknown_sheets_are_listed_not_read(tmp_path):
    dept = read_department(_write(tmp_path, Layout(extra_sheets=True)), 2022)
    assert dept.ignored_sheets == ["填表说明", "Sheet1"]
    assert not any(f.severity == "error" for f in dept.findings)


def test_extra_columns_are_kept_as_notes(tmp_path):
    dept = read_department(_write(tmp_path, Layout(extra_columns=True)), 2022)
    notes = [(n["src_sheet"], n["src_row"], n["text"]) for n in dept.rows["notes"]]
    assert ("项目支出", 3, "序号：1") in notes and ("项目支出", 3, "备注：已核对") in notes
    assert not any(f.severity == "error" for f in dept.findings)


def test_notes_and_signature_rows_are_notes(tmp_path):
    dept = read_department(_write(tmp_path, Layout(signature_rows=True)), 2022)
    texts = [n["text"] for n in dept.rows["notes"]]
    assert any(t.startswith("注：完成率") for t in texts)
    assert any(t.startswith("填表人：张三") for t in texts)
    assert any(t.startswith("部分重点任务预算完成率不达标原因") for t in texts)


def test_repeated_headers_and_continued_titles_are_dropped(tmp_path):
    book = read_workbook(_write(tmp_path, Layout(repeat_header_every=5)), DEPARTMENT_SHEETS)
    table = book.tables["projects"]
    assert len(table.rows) == len(SEED_BOOK.projects)
    assert all(cells["project"] not in ("项目", "（续表）") for _, cells in table.rows)


def test_units_convert_exactly(tmp_path):
    for layout in (Layout(), Layout(amount_unit="元"), Layout(title_rows=False)):
        dept = read_department(_write(tmp_path, layout), 2022)
        first = dept.rows["projects"][0]
        assert (str(first["budget_yuan"]), str(first["spent_yuan"])) == ("4446200.00", "4443000.00")
        assert str(dept.info["budget"]) == "47966000.00"


def test_subtotal_rows_are_notes_not_projects(tmp_path):
    book = dataclasses.replace(EDU, projects=(
        *EDU.projects[:2], Project("任务1：教师培训", "小计", 150.5, 148.25), EDU.projects[2]))
    dept = read_department(write_workbook(book, tmp_path / "2022" / "sub.xlsx", Layout(merge_hierarchy=False)), 2022)
    assert [p["project"] for p in dept.rows["projects"]] == ["教师培训经费", "骨干教师研修", "校舍维修改造"]
    assert any("小计" in n["text"] for n in dept.rows["notes"])


def test_full_width_indicator_values_read_as_numbers(tmp_path):
    book = dataclasses.replace(EDU, indicators=(Indicator("产出指标", "数量指标", "培训教师人次", "≥１２００人次", "１，３５０人次"),))
    dept = read_department(write_workbook(book, tmp_path / "2022" / "fw.xlsx", PLAIN), 2022)
    row = dept.rows["indicators"][0]
    assert (row["target_value"], row["actual_value"], row["target_text"]) == (1200, 1350, "≥1200人次")
