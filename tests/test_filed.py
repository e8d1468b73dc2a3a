"""The Excel and Word files are the report's own tables, as filed: checked against the reference report's
text (seed 000_fa6861cd34e91e59), and as a person sees them once LibreOffice has drawn them.

The bundled 2022 department is read, checked and loaded into a warehouse in tmp_path and drawn as
Excel and Word (the pipeline's functions, without Prefect). The HTML pages stay the reviewer's view,
with marks and lineage (tests/test_report.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Emu
from openpyxl import load_workbook

from jixiao import pipeline
from jixiao.check.rulesets import load_rulesets
from jixiao.publish import word_report
from jixiao.publish.fit import units
from jixiao.publish.report import department_report
from jixiao.publish.tables import filed
from jixiao.settings import Settings
from tests.conftest import PROJECT_ROOT, SEED_WORKBOOK
from tests.test_report import FRAMES, SOURCE

REFERENCE = Path("/work/shared/seed/000_fa6861cd34e91e59.txt")
REFERENCE_COPY = PROJECT_ROOT / "tests" / "fixtures" / "seed_report.txt"
LINEAGE = ("数据来源", "运行编号", "评分规则", "标红", "由系统按规则计算")
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                                   reason="LibreOffice (soffice) and poppler-utils (pdftoppm) are not installed")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("filed")
    (root / "raw" / "2022").mkdir(parents=True)
    shutil.copy(SEED_WORKBOOK, root / "raw" / "2022")
    settings = Settings(2022, root / "raw", root / "jixiao.duckdb", root / "reports")
    rulesets = load_rulesets()
    run_id = pipeline.new_run_id()
    pipeline.start_run(settings, run_id, force=True)
    batch = pipeline.check_year(pipeline.read_inputs(settings, rulesets))
    pipeline.load_batch(batch, settings, run_id, rulesets)
    pipeline.draw_reports(settings, batch, run_id, ("xlsx", "docx"))
    folder = settings.report_dir("PY-DPF")
    return folder / "PY-DPF_2022.xlsx", folder / "PY-DPF_2022.docx"


# --- the reference report's tables -------------------------------------------------


def reference_rows(caption: str) -> list[list[str]]:
    """The rows of one table of the reference text, as tab-separated fields: from the header after its
    caption to the first line that is no table row; a header repeated after a page break is skipped."""
    lines = REFERENCE_COPY.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.replace(" ", "").startswith(caption))
    header, rows = lines[at + 2], []
    for line in lines[at + 3:]:
        if not line.strip() or line == header:
            continue
        if "\t" not in line:
            break
        rows.append(line.split("\t"))
    return rows


def number(text) -> Decimal:
    return Decimal(str(text).replace(",", "").rstrip("%"))


def last_two(fields) -> tuple[Decimal, Decimal]:
    values = [f for f in fields if f not in (None, "")]
    return number(values[-2]), number(values[-1])


def test_the_reference_text_is_the_shared_seed():
    if REFERENCE.is_file():
        assert REFERENCE.read_text(encoding="utf-8") == REFERENCE_COPY.read_text(encoding="utf-8")
    assert len(reference_rows("表2-2")) == 18 and len(reference_rows("2-32022")) == 24


def sheet_rows(book, name: str) -> list[list]:
    """The body rows of a table's sheet (below its title and header), as values."""
    return [[c.value for c in row] for row in book[name].iter_rows(min_row=3)]


def test_excel_tables_have_the_reports_rows(files):
    book = load_workbook(files[0])
    assert book.sheetnames == ["表1-1", "表1-2", "表2-1", "表2-2", "表2-3", "报告文字", "说明"]

    # 表2-3: the 23 projects and 合计, no 小计, each row's figures as the report prints them
    expected = [(number(r[-3]), number(r[-2]), number(r[-1]) / 100) for r in reference_rows("2-32022")]
    rows = sheet_rows(book, "表2-3")
    assert [(round(Decimal(str(b)), 2), round(Decimal(str(s)), 2), round(Decimal(str(r)), 4))
            for _, _, b, s, r in rows] == expected
    assert rows[-1][0] == "合计" and not any("小计" in str(v) for row in rows for v in row)

    # 表2-2: the four columns and 18 indicators of the report, without group rows
    assert [c.value for c in book["表2-2"][2]] == ["三级指标", "指标值", "实际完成值", "完成率"]
    rows = sheet_rows(book, "表2-2")
    reference = reference_rows("表2-2")
    assert [r[0] for r in rows] == [r[0] for r in reference]
    assert [round(Decimal(str(r[3])) * 100, 2) for r in rows] == [number(r[3]) for r in reference]

    # 表2-1: every item's 分值 and 自评分, and 总分, in the report's order
    rows = sheet_rows(book, "表2-1")
    assert [last_two(r) for r in rows] == [last_two(r) for r in reference_rows("表2-1")]
    assert {c.number_format for row in book["表2-1"].iter_rows(min_row=3) for c in row} <= {"General", "0.00"}

    # 表1-2 and 表1-1: the indicators and tasks
    assert [r[2] for r in sheet_rows(book, "表1-2")] == [[f for f in r if f][-2] for r in reference_rows("表1-2")]
    assert len(sheet_rows(book, "表1-1")) == 10


def test_excel_tables_hold_no_marks_shading_or_lineage(files):
    book = load_workbook(files[0])
    for name in ("表1-1", "表1-2", "表2-1", "表2-2", "表2-3"):
        sheet = book[name]
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.fill.fill_type is None, (name, cell.coordinate)
                assert "*" not in str(cell.value or "") and "*" not in cell.number_format, (name, cell.coordinate)
                assert not any(word in str(cell.value or "") for word in LINEAGE), (name, cell.coordinate)
        # Every row has a height of its own: LibreOffice and WPS do not grow a wrapped row.
        assert all(sheet.row_dimensions[r].height for r in range(1, sheet.max_row + 1)), name
    notes = [row[0].value for row in book["说明"].iter_rows(min_row=2)]
    assert notes[0].startswith("数据来源：番禺区残联_2022.xlsx；运行编号 ")
    assert "评分规则：panyu_share" in notes and any("由系统按规则计算" in n for n in notes)


def test_excel_columns_fit_their_text(files):
    sheet = load_workbook(files[0])["表2-1"]
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFG"}
    # 三级指标 holds the longest names, the 分值 columns two digits.
    assert widths["E"] >= units("部门整体绩效目标产出指标完成情况") and max(widths["B"], widths["D"]) < widths["E"] / 2
    # A long outcome wraps, and its row is as tall as its lines.
    sheet = load_workbook(files[0])["表1-1"]
    assert sheet.column_dimensions["B"].width <= 60
    assert max(sheet.row_dimensions[r].height for r in range(3, 13)) > 3 * 14


def test_word_tables_have_the_reports_rows_and_no_lineage_under_them(files):
    doc = Document(str(files[1]))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    assert len(tables) == 5
    projects = tables[4][1:]
    expected = [(number(r[-3]), number(r[-2]), r[-1]) for r in reference_rows("2-32022")]
    assert [(number(r[2]), number(r[3]), r[4]) for r in projects] == expected
    assert tables[3][0] == ["三级指标", "指标值", "实际完成值", "完成率"]
    assert [(r[0], r[3]) for r in tables[3][1:]] == [(r[0], r[3]) for r in reference_rows("表2-2")]
    assert [last_two(r) for r in tables[2][1:]] == [last_two(r) for r in reference_rows("表2-1")]
    assert not any("*" in c or "小计" in c for t in tables for row in t for c in row)

    xml = doc.element.body.xml
    assert "w:shd" not in xml
    # The lineage is said once, after the last table, and in the document's properties.
    body = list(doc.element.body)
    last_table = max(i for i, e in enumerate(body) if e.tag == qn("w:tbl"))
    for i, element in enumerate(body):
        text = "".join(element.itertext())
        if any(word in text for word in LINEAGE):
            assert i > last_table, text
    assert "运行编号" in doc.core_properties.comments and "评分规则：panyu_share" in doc.core_properties.comments


def test_word_columns_are_fitted_and_fill_the_text_width(files):
    doc = Document(str(files[1]))
    section = doc.sections[0]
    text_width = Emu(section.page_width - section.left_margin - section.right_margin).twips
    for table in doc.tables:
        tbl = table._tbl
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        grid = [int(col.get(qn("w:w"))) for col in tbl.tblGrid.gridCol_lst]
        assert sum(grid) == text_width == int(tbl.tblPr.find(qn("w:tblW")).get(qn("w:w")))
        for tr in tbl.tr_lst:
            spans = [int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for tc in tr.tc_lst]
            assert sum(spans) == text_width
    # 表2-1: the 三级指标 column takes the longest name on one line (10.5 pt, 105 twips a half em).
    grid = [int(col.get(qn("w:w"))) for col in doc.tables[2]._tbl.tblGrid.gridCol_lst]
    assert grid[4] >= units("部门整体绩效目标产出指标完成情况") * 105
    assert grid[4] > 2.5 * max(grid[1], grid[3], grid[5])


def test_copied_cells_are_the_cells_python_docx_writes():
    """A style's later cells are copies of its first (word_report._Cells): the document is the same as
    when each cell is filled through python-docx, tabs, breaks and edge spaces included."""
    report = department_report(source=SOURCE, **FRAMES)
    tables = report.tables
    tables[0].rows[0]["outcome"] = " 两端有空格 "
    tables[0].rows[1]["outcome"] = "第一行\n第二行\t制表"
    documents = []
    for copies in (True, False):
        doc = word_report._new_document("x")
        for table in tables:
            word_report.add_table(doc, table, copies=copies)
        documents.append(doc.element.body.xml)
    assert documents[0] == documents[1]
    assert 'xml:space="preserve"> 两端有空格 <' in documents[0] and "<w:br/>" in documents[0]


def test_filed_keeps_merges_and_totals_of_the_rows_that_stay():
    table = filed(department_report(source=SOURCE, **FRAMES).table("table_2_3"))
    assert not any(r["project"] == "小计" for r in table.rows)
    assert table.totals == [len(table.rows) - 1] and table.rows[-1]["task"] == "合计"
    assert table.flagged == [] and table.notes == [] and table.source == SOURCE
    scores = filed(department_report(source=SOURCE, **FRAMES).table("table_2_1"))
    assert not any(type(v).__name__ == "Marked" for r in scores.rows for v in r.values())
    assert scores.lineage and scores.merged


# --- as a person sees them: LibreOffice draws the files ------------------------------


def _pdf(path: Path, out: Path) -> Path:
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{out / 'profile'}",
                    "--convert-to", "pdf", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    return out / f"{path.stem}.pdf"


def _lines(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, xMin, yMin, xMax, yMax, text) of every line of text LibreOffice laid out."""
    html = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    lines, page = [], 0
    for part in re.split(r"(<page |<line )", html):
        if part.startswith("width="):
            page += 1
        match = re.match(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', part,
                         re.S)
        if match:
            words = re.findall(r">([^<]*)</word>", match.group(5))
            lines.append((page, *map(float, match.groups()[:4]), "".join(words)))
    return lines


def _overlaps(lines) -> list[tuple[str, str]]:
    """Pairs of lines on one page whose boxes cover each other by more than a quarter of the lower one.
    A pair of texts both drawn on an earlier page is left out: the header row repeated on every page,
    and a merged cell's text that LibreOffice carries over a page break, clipped under that header."""
    found, seen, page = [], set(), 0
    earlier: set[str] = set()
    for i, a in enumerate(lines):
        if a[0] != page:
            page, earlier = a[0], set(seen)
        seen.add(a[5])
        for b in lines[i + 1:]:
            if a[0] != b[0] or (a[5] in earlier and b[5] in earlier):
                continue
            width = min(a[3], b[3]) - max(a[1], b[1])
            height = min(a[4], b[4]) - max(a[2], b[2])
            if width > 2 and height > 0.25 * min(a[4] - a[2], b[4] - b[2]):
                found.append((a[5], b[5]))
    return found


def _drawn(path: Path, out: Path) -> list[tuple]:
    """The file as LibreOffice draws it: its PDF's text lines, none overlapping another; and at least five
    pages of pictures, with ink on the first."""
    from PIL import Image

    pdf = _pdf(path, out)
    lines = _lines(pdf)
    assert _overlaps(lines) == []
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(out / pdf.stem)], check=True, timeout=120)
    pictures = sorted(out.glob(f"{pdf.stem}*.png"))
    assert len(pictures) >= 5
    with Image.open(pictures[0]) as page:
        assert page.convert("L").getextrema()[0] < 100  # ink on the page
    return lines


@pytest.mark.slow
@needs_soffice
def test_libreoffice_draws_the_excel_tables_without_overlapping_text(files, tmp_path):
    text = "".join(line[5] for line in _drawn(files[0], tmp_path))
    for outcome in ("精神康复综合服务中心2022年服务对象增至430人", "资助残疾人康复2749人"):
        assert outcome in text


@pytest.mark.slow
@needs_soffice
def test_libreoffice_draws_the_word_tables_with_names_on_one_line(files, tmp_path):
    texts = [line[5] for line in _drawn(files[1], tmp_path)]
    # 表2-1's 三级指标 names each on one line, beside their points, as the report prints them
    for name in ("部门整体绩效目标产出指标完成情况", "部门整体绩效目标效益指标完成情况", "新增预算项目事前绩效评估"):
        assert any(name in t for t in texts), name
    # figures are never broken over two lines (a lone "%" under 143.18)
    assert "%" not in texts
