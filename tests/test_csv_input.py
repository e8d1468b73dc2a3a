"""CSV input: a department folder of CSV files named after the sheets, UTF-8 or GBK, detected.

That a CSV folder gives the same marts as the workbook is tested in test_layouts.py;
here: encodings, delimiters, and what a broken folder gets.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from jixiao.ingest.csv_input import MAX_CSV_BYTES, decode
from jixiao.ingest.extract import read_department
from jixiao.ingest.read import department_inputs, workbook_paths
from jixiao_synth.workbook import write_workbook
from tests.test_other_departments import EDU, PLAIN
from tests.workbook_files import to_csv_folder

TEXT = "项目,值\n部门名称,番禺区教育局\n"


@pytest.mark.parametrize(("data", "encoding"), [
    (TEXT.encode("utf-8"), "UTF-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "UTF-8"),
    (TEXT.encode("gbk"), "GBK"),
    (TEXT.encode("gb18030"), "GBK"),
    (TEXT.encode("utf-16"), "UTF-16"),
])
def test_the_encoding_is_detected(data, encoding):
    assert decode(data) == (TEXT, encoding)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    source = write_workbook(EDU, tmp_path / "source.xlsx", PLAIN)
    return to_csv_folder(source, tmp_path / "raw" / "2022" / "教育局", "gbk")


def errors(folder: Path) -> list:
    return [f for f in read_department(folder, 2022).findings if f.severity == "error"]


def test_a_gbk_folder_reads_like_the_workbook(folder, tmp_path):
    from_csv = read_department(folder, 2022)
    from_xlsx = read_department(tmp_path / "source.xlsx", 2022)
    assert from_csv.findings == [] and from_csv.file == "教育局"
    for key in ("tasks", "indicators", "projects", "scores"):
        assert from_csv.rows[key] == from_xlsx.rows[key], key


def test_the_folder_is_an_input_and_its_files_are_fingerprinted(folder):
    year = folder.parent
    assert department_inputs(year) == [folder]
    assert [p.name for p in workbook_paths(year)] == sorted(p.name for p in folder.iterdir())


def test_a_bad_cell_names_the_csv_sheet_and_cell(folder):
    path = folder / "项目支出.csv"
    text = path.read_bytes().decode("gbk").replace("6123400", "六百万")
    path.write_bytes(text.encode("gbk"))
    [f] = errors(folder)
    assert (f.file, f.sheet, f.cell, f.value, f.rule) == ("教育局", "项目支出", "D4", "六百万", "number.not_a_number")


def test_an_undecodable_file(folder):
    (folder / "绩效指标.csv").write_bytes(bytes([0x81, 0x20, 0xff, 0x30]) * 10)  # neither UTF-8 nor GB18030
    [f] = errors(folder)
    assert (f.sheet, f.rule) == ("绩效指标", "csv.encoding") and "UTF-8" in f.message


def test_a_missing_sheet_file(folder):
    (folder / "自评得分.csv").unlink()
    [f] = errors(folder)
    assert f.rule == "sheet.missing" and "自评得分.csv" in f.message


def test_a_folder_without_csv_files(tmp_path):
    folder = tmp_path / "raw" / "2022" / "空文件夹"
    folder.mkdir(parents=True)
    (folder / "readme.docx").write_bytes(b"x")
    [f] = errors(folder)
    assert f.rule == "csv.folder_without_sheets" and "readme.docx" in f.message


def test_other_files_in_the_folder_are_listed(folder):
    (folder / "说明.txt").write_text("附件", encoding="utf-8")
    (folder / "备用.csv").write_text("a,b", encoding="utf-8")
    dept = read_department(folder, 2022)
    assert dept.ignored_sheets == ["备用.csv", "说明.txt"] and not dept.has_errors


def test_a_huge_csv(folder):
    with (folder / "重点工作任务.csv").open("ab") as f:
        f.write(b"," * (MAX_CSV_BYTES + 1))
    [f] = errors(folder)
    assert (f.sheet, f.rule) == ("重点工作任务", "sheet.too_large")


def test_a_huge_field(folder):
    with (folder / "重点工作任务.csv").open("ab") as f:
        f.write(b'3,"' + b"x" * 200_000 + b'",x\r\n')
    [f] = errors(folder)
    assert (f.sheet, f.rule) == ("重点工作任务", "csv.unreadable")
