"""Every kind of bad input of issue 3 gets a clear finding: file, sheet, A1 cell, rule, value, Chinese.

The files are real: written by xlsxwriter, rewritten cell by cell, or patched at
the XML or zip level where no spreadsheet program would produce them (a formula
without a cached value, a cell at XFD1048576, a zip bomb). Findings are checked
after the whole validation (read, extraction, pandera schemas, cross-sheet
rules), as the run produces them; the flow runs once at the end, with broken
and good departments together, through the command line.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from msoffcrypto.format.ooxml import OOXMLFile

from jixiao.check.rulesets import load_rulesets
from jixiao.domain import Department, Finding
from jixiao.families import raw_tables
from jixiao.ingest.extract import read_department
from jixiao.ingest.limits import MAX_CELL_CHARS, MAX_SHEET_ROWS
from jixiao.load.staging import Staging
from jixiao.pipeline import check_departments
from jixiao_synth.workbook import ScoreItem, write_workbook
from tests.conftest import SEED_WORKBOOK, query
from tests.test_other_departments import EDU, PLAIN
from tests.workbook_files import Formula, edit, grids, patch_sheet, write_grids


@pytest.fixture
def year_dir(tmp_path: Path) -> Path:
    path = tmp_path / "raw" / "2022"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def edu(year_dir: Path) -> Path:
    """教育局 in the plain layout: header on row 1, data from row 2, amounts in 元.

    项目支出: A 重点任务, B 项目, C 预算金额（元）, D 支出金额（元）, E 预算完成率; rows 2-4.
    绩效指标: A-C levels and name, D 指标值, E 实际完成值, F 完成率; rows 2-8.
    自评得分: A 一级, B 分值, C 二级, D 分值, E 三级, F 分值, G 自评分; rows 2-5.
    基本情况: B2 部门名称, B3 部门编码, B4 年度, B5 全年预算数（元）, B6 财政拨款支出（元）.
    """
    return write_workbook(EDU, year_dir / "教育局.xlsx", PLAIN)


def checked(*paths: Path) -> list[Department]:
    """The departments as checked, with their typed rows (a run lets go of them once they are staged)."""
    departments = [read_department(p, 2022) for p in paths]
    kept = [(d.rows, d.info) for d in departments]
    check(departments, lambda batch: None)
    for dept, (rows, info) in zip(departments, kept, strict=True):
        dept.rows, dept.info = rows, info
    return departments


def check(departments: list[Department], keep=lambda batch: batch.quarantined_rows().to_dicts()):
    """The batch, and what `keep` takes of it while its staged rows exist (by default its quarantined rows)."""
    with tempfile.TemporaryDirectory() as folder:
        batch = check_departments(departments, 2022, load_rulesets(), None, Staging(Path(folder), raw_tables()))
        return batch, keep(batch)


def findings(path: Path, severity: str = "error") -> list[Finding]:
    return [f for f in checked(path)[0].findings if f.severity == severity]


def only(found: list[Finding], rule: str) -> Finding:
    hits = [f for f in found if f.rule == rule]
    assert len(hits) == 1, (rule, [str(f) for f in found])
    return hits[0]


def where(f: Finding) -> tuple:
    return f.file, f.sheet, f.cell, f.value


def has_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def test_the_fixture_is_clean(edu):
    assert findings(edu) == []


# --- files that are not a workbook -----------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "rule", "says"), [
    ("文本.xlsx", "这不是工作簿".encode(), "workbook.not_a_workbook", "非 Excel 文件"),
    ("扫描件.xlsx", b"%PDF-1.7\n...", "workbook.not_a_workbook", "PDF"),
    ("空文件.xlsx", b"", "workbook.empty_file", "0 字节"),
    ("说明.docx", b"PK\x03\x04", "workbook.not_a_workbook", ".docx"),
    ("填报说明.txt", "请于三月前提交".encode(), "workbook.not_a_workbook", ".txt"),
    ("教育局.csv", "项目,值\n".encode(), "workbook.not_a_workbook", "CSV 需放在以部门命名的文件夹中"),
])
def test_a_file_that_is_not_a_workbook(year_dir, name, content, rule, says):
    path = year_dir / name
    path.write_bytes(content)
    f = only(findings(path), rule)
    assert (f.file, f.sheet, f.cell) == (name, None, None)
    assert says in f.message and has_chinese(f.message)


def test_a_word_document_named_xlsx(year_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    (year_dir / "报告.xlsx").write_bytes(buffer.getvalue())
    assert "Word 文档" in only(findings(year_dir / "报告.xlsx"), "workbook.not_a_workbook").message


@pytest.mark.parametrize(("name", "members", "says"), [
    ("表格.ods", {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}, ".ods"),
    ("表格.xlsx", {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}, ".ods"),
    ("二进制.xlsx", {"_rels/.rels": '<Relationships><Relationship Id="r" Target="xl/workbook.bin" '
                                   'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
                                   '</Relationships>', "xl/workbook.bin": "\x00"}, ".xlsb"),
])
def test_another_spreadsheet_format(year_dir, name, members, says):
    with zipfile.ZipFile(year_dir / name, "w") as z:
        for member, text in members.items():
            z.writestr(member, text)
    f = only(findings(year_dir / name), "workbook.format_unsupported")
    assert says in f.message and "另存为 .xlsx" in f.message


def test_a_truncated_workbook(edu, year_dir):
    half = year_dir / "半个.xlsx"
    half.write_bytes(edu.read_bytes()[: edu.stat().st_size // 2])
    f = only(findings(half), "workbook.damaged")
    assert "不完整或已损坏" in f.message


def test_a_workbook_with_a_damaged_part(edu):
    with zipfile.ZipFile(edu) as z:
        info = z.getinfo("xl/sharedStrings.xml")
    data = bytearray(edu.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10: start + 30] = bytes(20)  # inside the deflated stream: the CRC can no longer match
    edu.write_bytes(bytes(data))
    assert only(findings(edu), "workbook.damaged").file == "教育局.xlsx"


def test_an_encrypted_workbook(edu, year_dir):
    locked = year_dir / "加密.xlsx"
    with edu.open("rb") as source, locked.open("wb") as target:
        OOXMLFile(source).encrypt("123456", target)
    f = only(findings(locked), "workbook.encrypted")
    assert "密码" in f.message


def test_an_empty_workbook(year_dir):
    path = year_dir / "空白.xlsx"
    with xlsxwriter.Workbook(str(path)) as wb:
        wb.add_worksheet("Sheet1")
    assert [f.rule for f in findings(path)] == ["workbook.empty"]


def test_an_unknown_file_never_raises(year_dir):
    for i, content in enumerate([b"PK\x05\x06" + bytes(18), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
                                 os.urandom(3000), b"PK\x03\x04" + os.urandom(3000)]):
        path = year_dir / f"坏{i}.xlsx"
        path.write_bytes(content)
        dept = read_department(path, 2022)
        assert dept.has_errors and all(f.file == path.name for f in dept.findings)


# --- sheets and columns ----------------------------------------------------------------------


def test_a_missing_required_sheet(edu, year_dir):
    sheets = grids(edu)
    del sheets["自评得分"]
    f = only(findings(write_grids(year_dir / "缺表.xlsx", sheets)), "sheet.missing")
    assert "自评得分" in f.message and "表2-1" in f.message


def test_a_missing_required_column(edu, year_dir):
    sheets = grids(edu)
    sheets["绩效指标"] = [row[:4] + row[5:] for row in sheets["绩效指标"]]  # 实际完成值 cut out
    path = write_grids(year_dir / "缺列.xlsx", sheets)
    batch, quarantined = check([read_department(path, 2022)])
    f = only([x for x in batch.departments[0].findings if x.severity == "error"], "sheet.column_missing")
    assert (f.sheet, f.cell) == ("绩效指标", "A1")
    assert "实际完成值" in f.message and "实际值" in f.message
    # nothing lost: the sheet's rows are quarantined as written
    assert {q["row"] for q in quarantined if q["sheet"] == "绩效指标"} == set(range(1, 9))


def test_a_sheet_without_a_header(edu, year_dir):
    sheets = grids(edu)
    sheets["项目支出"] = [["随便写的"], ["不是表格"]]
    f = only(findings(write_grids(year_dir / "无表头.xlsx", sheets)), "sheet.header_missing")
    assert f.sheet == "项目支出" and "预算金额" in f.message


def test_two_sheets_for_one_table(edu, year_dir):
    sheets = grids(edu)
    sheets["表2-2"] = sheets["绩效指标"]
    f = only(findings(write_grids(year_dir / "两个.xlsx", sheets)), "sheet.duplicate")
    assert f.sheet == "表2-2" and "绩效指标" in f.message


# --- cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sheet", "cell", "value", "rule", "found"), [
    ("项目支出", "D4", "六百万", "number.not_a_number", "六百万"),
    ("项目支出", "C2", "1,2O5,OOO", "number.not_a_number", "1,2O5,OOO"),
    ("自评得分", "G5", "四十五", "number.not_a_number", "四十五"),
    ("项目支出", "D3", "#VALUE!", "cell.excel_error", "#VALUE!"),
    ("项目支出", "D2", Formula("=C2/0", "#DIV/0!"), "cell.excel_error", "#DIV/0!"),
    ("绩效指标", "E2", Formula("=#REF!+1", "#REF!"), "cell.excel_error", "#REF!"),
    ("项目支出", "E3", Formula("=D3/C3", "#DIV/0!"), "cell.excel_error", "#DIV/0!"),
    ("绩效指标", "D3", "95%-98%", "indicator.value_ambiguous", "95%-98%"),
    ("绩效指标", "D2", "0人次", "indicator.target_zero", "0人次"),
    ("绩效指标", "E2", "1350人", "indicator.unit_mismatch", "1350人"),
    ("绩效指标", "E2", "很多", "indicator.actual_not_a_number", "很多"),  # against a figure: no rate
    ("项目支出", "C2", "1e30", "number.not_a_number", "1e30"),
    ("项目支出", "C2", 1e30, "number.too_large", "1e+30"),
    ("自评得分", "G5", 1e-9, "number.too_small", "1e-09"),
    ("重点工作任务", "A2", 1.5, "number.not_an_integer", "1.5"),
    ("基本情况", "B4", 2021, "basic.year_mismatch", "2021"),
    ("基本情况", "B5", "#N/A", "cell.excel_error", "#N/A"),
    ("基本情况", "B3", "教育 局", "basic.dept_code_invalid", "教育局"),
])
def test_a_bad_cell(edu, year_dir, sheet, cell, value, rule, found):
    path = edit(edu, year_dir / "改.xlsx", **{sheet: {cell: value}})
    f = only(findings(path), rule)
    assert (f.file, f.sheet, f.cell, f.value) == ("改.xlsx", sheet, cell, found)
    assert has_chinese(f.message)


def test_a_value_below_the_warehouse_s_last_decimal_place(edu, year_dir):
    # polars would null it, or panic on the exponent and stop the run (a hypothesis find).
    path = edit(edu, year_dir / "极小.xlsx", 绩效指标={"D2": 2.707474036830335e-76, "E2": 1})
    f = only(findings(path), "number.too_small")
    assert (f.sheet, f.cell, f.value) == ("绩效指标", "D2", "2.707474036830335e-76")
    assert "数值过小" in f.message


def test_negative_amounts(edu, year_dir):
    path = edit(edu, year_dir / "负数.xlsx", 项目支出={"C4": -8000000}, 基本情况={"B6": "-1.00"})
    found = findings(path)
    project = only(found, "projects.budget_yuan.min")
    assert (project.sheet, project.cell, project.value, project.message) == ("项目支出", "C4", "-8000000.00", "预算金额不能为负数")
    basic = only(found, "departments.spent_yuan.min")
    assert (basic.sheet, basic.cell) == ("基本情况", "B6")


def test_spending_above_budget_is_a_warning(edu, year_dir):
    path = edit(edu, year_dir / "超支.xlsx", 项目支出={"D4": 9000000})
    dept = checked(path)[0]
    assert not dept.has_errors
    f = only(dept.findings, "project.overspent")
    assert (f.severity, f.sheet, f.cell) == ("warning", "项目支出", "D4")


def test_a_formula_without_a_cached_value(edu, year_dir):
    path = edit(edu, year_dir / "未计算.xlsx", 项目支出={"D3": Formula("=C3*0.99", 0)})
    patch_sheet(path, "项目支出", lambda xml: re.sub(rb"(<f>C3\*0.99</f>)<v>0</v>", rb"\1", xml))
    f = only(findings(path), "cell.formula_no_value")
    assert (f.sheet, f.cell, f.value) == ("项目支出", "D3", "=C3*0.99")
    assert "重新计算" in f.message


def test_sub_cent_amounts_round_half_up_with_a_warning_wherever_they_are(edu, year_dir):
    path = edit(edu, year_dir / "厘.xlsx", 基本情况={"B5": "1234567.125"}, 项目支出={"C3": 300000.005})
    dept = checked(path)[0]
    assert not dept.has_errors
    # half up, as the warning says: Decimal's default (half to even) gives .12 and .00
    assert str(dept.info["budget"]) == "1234567.13"
    assert str(dept.rows["projects"][1]["budget_yuan"]) == "300000.01"
    warned = {(f.sheet, f.cell) for f in dept.findings if f.rule == "amount.sub_cent"}
    assert warned == {("基本情况", "B5"), ("项目支出", "C3")}
    assert all("四舍五入" in f.message for f in dept.findings if f.rule == "amount.sub_cent")


def test_basic_rows_of_no_known_label_are_kept_as_notes(edu, year_dir):
    address = "番禺区市桥街" + "一号" * 500  # longer than the 200 characters a finding quotes
    path = edit(edu, year_dir / "地址.xlsx", 基本情况={"A9": "单位地址", "B9": address, "A10": "备注", "B10": "无"})
    dept = checked(path)[0]
    assert not dept.has_errors
    kept = [n for n in dept.rows["notes"] if n["src_sheet"] == "基本情况"]
    assert kept == [{"src_sheet": "基本情况", "src_row": 9, "text": f"单位地址：{address}"},
                    {"src_sheet": "基本情况", "src_row": 10, "text": "备注：无"}]


def test_an_excel_error_in_an_extra_column_is_a_finding_not_a_note(edu, year_dir):
    path = edit(edu, year_dir / "备注.xlsx", 项目支出={"F1": "备注", "F2": "追加预算", "F3": Formula("=1/0", "#DIV/0!")})
    dept = checked(path)[0]
    assert not dept.has_errors  # the column is read by no one: the department's figures stand
    f = only(dept.findings, "cell.excel_error")
    assert (f.severity, f.sheet, f.cell, f.value) == ("warning", "项目支出", "F3", "#DIV/0!")
    assert "备注" in f.message
    kept = [n["text"] for n in dept.rows["notes"] if n["src_sheet"] == "项目支出"]
    assert kept == ["备注：追加预算"]


def test_formulas_with_cached_values_are_read(edu, year_dir):
    path = edit(edu, year_dir / "公式.xlsx", 项目支出={"D3": Formula("=C3*1", 300000)})
    dept = checked(path)[0]
    assert not dept.has_errors
    assert str(dept.rows["projects"][1]["spent_yuan"]) == "300000.00"


def test_a_10000_character_cell(edu, year_dir):
    long = "很长的说明" * 2000
    path = edit(edu, year_dir / "长.xlsx", 项目支出={"B3": long})
    f = only(findings(path), "cell.too_long")
    assert (f.sheet, f.cell) == ("项目支出", "B3")
    assert len(f.value) < 300 and f.value.startswith("很长的说明")
    assert str(MAX_CELL_CHARS) in f.message


# --- across rows and sheets ------------------------------------------------------------------


def test_duplicated_rows(year_dir):
    book = dataclasses.replace(EDU, projects=(*EDU.projects, EDU.projects[1]),
                               indicators=(*EDU.indicators, EDU.indicators[0]))
    found = findings(write_workbook(book, year_dir / "重复.xlsx", PLAIN))
    projects = [f for f in found if f.rule == "projects.duplicate"]
    assert [(f.cell, f.value) for f in projects] == [("B3", "骨干教师研修"), ("B5", "骨干教师研修")]
    assert "与第 5 行重复" in projects[0].message
    indicators = [f for f in found if f.rule == "indicators.duplicate"]
    assert [f.cell for f in indicators] == ["C2", "C9"]


def test_names_differing_by_punctuation_are_not_duplicates():
    dept = checked(SEED_WORKBOOK)[0]
    assert not any(f.rule.endswith("duplicate") for f in dept.findings)


def test_a_score_above_its_weight(edu, year_dir):
    f = only(findings(edit(edu, year_dir / "超分.xlsx", 自评得分={"G5": 55})), "scores.score_above_weight")
    assert (f.sheet, f.cell, f.value) == ("自评得分", "G5", "55")


def test_weights_that_do_not_add_up(year_dir):
    items = (*EDU.score_items[:3], ScoreItem("管理效率", 50, "预算管理", 50, "预算编制与执行", 40, 35))
    found = findings(write_workbook(dataclasses.replace(EDU, score_items=items), year_dir / "权重.xlsx", PLAIN))
    sums = [f for f in found if f.rule == "scores.weights_sum"]
    assert [(f.cell, f.value) for f in sums] == [("D5", "50")]
    assert "合计为 40" in sums[0].message


def test_the_same_code_in_two_files(edu, year_dir):
    other = write_workbook(EDU, year_dir / "教育局（新）.xlsx", PLAIN)
    first, second = checked(edu, other)
    for dept, named in ((first, "教育局（新）.xlsx"), (second, "教育局.xlsx")):
        f = only(dept.findings, "basic.dept_code_duplicate")
        assert (f.sheet, f.cell, f.value) == ("基本情况", "B3", "PY-EDU") and named in f.message


def test_a_year_written_with_its_unit_is_fine(edu, year_dir):
    assert findings(edit(edu, year_dir / "年.xlsx", 基本情况={"B4": "2022年"})) == []


# --- hostile files: bounded by limits, not by memory ---------------------------------------


def test_a_cell_far_away(edu):
    # calamine would allocate 1,048,576 × 16,384 cells for these two and abort the process.
    patch_sheet(edu, "项目支出", lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'))
    f = only(findings(edu), "sheet.too_large")
    assert f.sheet == "项目支出" and "1048576" in f.message


@pytest.mark.slow
def test_a_million_row_sheet(edu):
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>1</v></c></row>' for i in range(1, 1_000_001)).encode()
    patch_sheet(edu, "绩效指标", lambda xml: re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>",
                                                     xml, flags=re.S))
    f = only(findings(edu), "sheet.too_large")
    assert f.sheet == "绩效指标" and str(MAX_SHEET_ROWS) in f.message


def test_a_zip_bomb(edu):
    with zipfile.ZipFile(edu, "a", zipfile.ZIP_DEFLATED) as z, z.open("xl/media/padding.xml", "w", force_zip64=True) as part:
        chunk = b" " * (1 << 20)
        for _ in range(200):
            part.write(chunk)
    assert edu.stat().st_size < 2_000_000
    f = only(findings(edu), "workbook.too_large")
    assert "解压后过大" in f.message


# --- the run: broken and good departments together ----------------------------------------


@pytest.mark.slow
@pytest.mark.slow
def test_a_district_with_broken_workbooks(tmp_path, prefect_api_url):
    raw = tmp_path / "raw"
    year = raw / "2022"
    year.mkdir(parents=True)
    good = write_workbook(EDU, year / "教育局.xlsx", PLAIN)
    (year / "番禺区残联_2022.xlsx").write_bytes(SEED_WORKBOOK.read_bytes())
    (year / "截断.xlsx").write_bytes(good.read_bytes()[:3000])
    (year / "空.xlsx").write_bytes(b"")
    edit(good, year / "文本金额.xlsx", 基本情况={"B3": "PY-BAD"}, 项目支出={"D4": "六百万"})
    with good.open("rb") as source, (year / "加密.xlsx").open("wb") as target:
        OOXMLFile(source).encrypt("x", target)
    warehouse, out = tmp_path / "jixiao.duckdb", tmp_path / "reports"
    env = {**os.environ, "PREFECT_API_URL": prefect_api_url}
    result = subprocess.run(
        [sys.executable, "-m", "jixiao.cli", "run", "--year", "2022", "--raw", str(raw), "--warehouse", str(warehouse),
         "--out", str(out), "--formats", "none"],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    rows = query(_settings(warehouse, raw, out), "select dept_code from mart.department_summary order by 1")
    assert rows == [{"dept_code": "PY-DPF"}, {"dept_code": "PY-EDU"}]
    errors = query(_settings(warehouse, raw, out),
                   "select file, sheet, cell, rule from audit.validation_issues where severity = 'error' order by file")
    by_file = {}
    for e in errors:
        by_file.setdefault(e["file"], []).append(e)
    assert set(by_file) == {"截断.xlsx", "空.xlsx", "文本金额.xlsx", "加密.xlsx"}
    assert [(e["sheet"], e["cell"], e["rule"]) for e in by_file["文本金额.xlsx"]] == [("项目支出", "D4", "number.not_a_number")]
    report = (out / "2022" / "validation.csv").read_bytes()
    assert report.startswith(b"\xef\xbb\xbf") and "截断.xlsx".encode() in report


def _settings(warehouse: Path, raw: Path, out: Path):
    from jixiao.settings import Settings

    return Settings(2022, raw, warehouse, out)
