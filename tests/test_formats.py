"""Every output format through the real flow: HTML, PNG, Excel, Word and the year's index.

Two departments of 2022: the bundled 区残联 and an education bureau whose
workbook carries hostile text (a <script> indicator, formulas as names). The
Excel and Word files are reopened (openpyxl, python-docx) and their figures
compared with the marts; the pictures are checked for ink.
"""

from __future__ import annotations

import dataclasses
import shutil
import zipfile
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from PIL import Image, ImageChops

from jixiao.publish import png
from jixiao.publish.display import fmt_percent, fmt_score, fmt_wan
from jixiao.publish.outputs import FORMATS, parse_formats, picture_warning
from jixiao.publish.sentences import report_sentences
from jixiao.settings import Settings
from jixiao_synth.workbook import Indicator, Project, Task, write_workbook
from tests.conftest import SEED_WORKBOOK, query
from tests.test_other_departments import EDU, PLAIN

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.invalid","点击")'
HOSTILE = dataclasses.replace(
    EDU,
    info=EDU.info | {"部门名称": "<b>番禺区教育局</b>"},
    tasks=(Task(1, "=1+1", "@SUM(A1)"), Task(2, "+86 校舍维护", "-完成")),
    indicators=(Indicator("产出指标", "数量指标", SCRIPT, "≥1200人次", "1350人次"), *EDU.indicators[1:]),
    projects=(Project("任务1：教师培训", FORMULA, 120.5, 118.25), *EDU.projects[1:]),
)
DEPTS = ("PY-DPF", "PY-EDU")
needs_chromium = pytest.mark.skipif(png.find_chromium() is None,
                                    reason="Chromium is not installed (apt-get install chromium fonts-noto-cjk)")


@pytest.fixture(scope="module")
def drawn(prefect_server, tmp_path_factory):
    from flows.year import run_year

    root = tmp_path_factory.mktemp("formats")
    (root / "raw" / "2022").mkdir(parents=True)
    shutil.copy(SEED_WORKBOOK, root / "raw" / "2022")
    write_workbook(HOSTILE, root / "raw" / "2022" / "教育局.xlsx", PLAIN)
    settings = Settings(2022, root / "raw", root / "jixiao.duckdb", root / "reports")
    summary = run_year(2022, settings.raw_dir, settings.warehouse, settings.out_dir)
    assert summary.loaded == DEPTS
    return settings, summary


def folder(settings: Settings, dept: str):
    return settings.out_dir / "2022" / dept


def marts(settings: Settings, dept: str) -> dict[str, list[dict]]:
    where = {"year": 2022, "dept": dept}
    sql = {
        "summary": "select * from mart.department_summary where year = $year and dept_code = $dept",
        "profile": "select * from mart.department_profile where year = $year and dept_code = $dept",
        "tasks": "select * from mart.task_outcomes where year = $year and dept_code = $dept order by task_no",
        "indicators": "select * from mart.indicator_completion where year = $year and dept_code = $dept "
                      "order by indicator_no",
        "projects": "select * from mart.project_spending where year = $year and dept_code = $dept "
                    "order by task_no, project_no",
        "scores": "select * from mart.score_sheet where year = $year and dept_code = $dept order by item_no",
    }
    return {name: query(settings, q, where) for name, q in sql.items()}


def sentences_of(m: dict[str, list[dict]]) -> dict[str, str]:
    return report_sentences(m["summary"][0], m["profile"][0], m["tasks"], m["indicators"], m["projects"])


def exact(value: float) -> Decimal:
    # repr gives the shortest text that round-trips: the decimal the workbook was given.
    return Decimal(repr(value))


# --- the files -------------------------------------------------------------------


def test_every_format_is_written(drawn):
    settings, summary = drawn
    written = {str(p) for p in summary.reports}
    for dept in DEPTS:
        here = folder(settings, dept)
        names = ["index.html", "summary.html", "table_1_1.html", "table_1_2.html", "table_2_1.html",
                 "table_2_2.html", "table_2_3.html", f"{dept}_2022.xlsx", f"{dept}_2022.docx"]
        if png.find_chromium():
            names += ["table_1_1.png", "table_1_2.png", "table_2_1.png", "table_2_2.png", "table_2_3.png"]
        assert {str(here / n) for n in names} <= written
    assert str(settings.out_dir / "2022" / "index.html") in written


# --- Excel -------------------------------------------------------------------------


def test_excel_holds_the_marts_figures_as_numbers(drawn):
    settings, _ = drawn
    m = marts(settings, "PY-DPF")
    book = load_workbook(folder(settings, "PY-DPF") / "PY-DPF_2022.xlsx")
    assert book.sheetnames == ["表1-1", "表1-2", "表2-1", "表2-2", "表2-3", "报告文字", "说明"]

    sheet = book["表2-3"]
    assert sheet["A1"].value == "表2-3 2022年度各重点任务项目支出完成情况（单位：万元）"
    assert "A1:E1" in {str(r) for r in sheet.merged_cells.ranges}
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=3) if r[1].value}
    for p in m["projects"]:
        budget, spent, rate = rows[p["project"]][2:5]
        assert exact(budget.value) == p["budget_yuan"].scaleb(-4) and budget.number_format == "#,##0.00"
        assert exact(spent.value) == p["spent_yuan"].scaleb(-4)
        assert exact(rate.value) == p["spend_rate"] and rate.number_format == "0.00%"
    total = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == "合计")
    s = m["summary"][0]
    assert exact(total[2].value) == s["project_budget_yuan"].scaleb(-4)
    assert exact(total[3].value) == s["project_spent_yuan"].scaleb(-4)
    # Each task's name is one cell merged down its projects.
    task_merges = [r for r in sheet.merged_cells.ranges if r.min_col == r.max_col == 1]
    assert len(task_merges) == sum(1 for t in {p["task_no"] for p in m["projects"]}
                                   if sum(q["task_no"] == t for q in m["projects"]) > 1)

    sheet = book["表2-2"]
    rates = {r[0].value: r[3] for r in sheet.iter_rows(min_row=3)}
    for i in m["indicators"]:
        assert exact(rates[i["indicator"]].value) == i["completion_rate"]
        assert rates[i["indicator"]].number_format == "0.00%"

    sheet = book["表2-1"]
    scores = {r[4].value: r[6] for r in sheet.iter_rows(min_row=3) if r[4].value}
    for item in m["scores"]:
        if item["item"]:
            assert exact(scores[item["item"]].value) == item["score"]
    assert scores["部门整体绩效目标产出指标完成情况"].number_format == "0.00"  # filed: no * mark
    total = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == "总分")
    assert exact(total[6].value) == s["total_score"]

    sheet = book["表1-1"]
    assert [r[1].value for r in sheet.iter_rows(min_row=3, max_row=2 + len(m["tasks"]))] == \
        [t["outcome"] for t in m["tasks"]]

    assert [r[1].value for r in book["报告文字"].iter_rows(min_row=2)] == list(sentences_of(m).values())


# --- Word ----------------------------------------------------------------------------


def test_word_has_the_sentences_and_native_tables(drawn):
    settings, _ = drawn
    m = marts(settings, "PY-DPF")
    doc = Document(str(folder(settings, "PY-DPF") / "PY-DPF_2022.docx"))
    paragraphs = [p.text for p in doc.paragraphs]
    for sentence in sentences_of(m).values():
        assert sentence in paragraphs
    assert len(doc.tables) == 5
    # the filed report's own title, and Chinese text as Word should check and set it
    assert paragraphs[0] == doc.core_properties.title == "2022年度广州市番禺区残疾人联合会部门整体支出绩效自评报告"
    lang = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    assert {lang.get(qn(a)) for a in ("w:val", "w:eastAsia")} == {"zh-CN"}
    captions = [t for t in paragraphs if t.startswith("表")]
    assert [c[:4] for c in captions] == ["表1-1", "表1-2", "表2-1", "表2-2", "表2-3"]

    projects = doc.tables[4]
    rows = [[c.text for c in row.cells] for row in projects.rows]
    assert rows[0] == ["重点任务", "项目", "预算金额", "支出金额", "预算完成率"]
    for p in m["projects"]:
        assert [p["project"], fmt_wan(p["budget_yuan"]), fmt_wan(p["spent_yuan"]),
                fmt_percent(p["spend_rate"])] in [r[1:] for r in rows]
    s = m["summary"][0]
    assert ["合计", "", fmt_wan(s["project_budget_yuan"]), fmt_wan(s["project_spent_yuan"]),
            fmt_percent(s["project_spend_rate"])] == rows[-1]

    indicators = [[c.text for c in row.cells] for row in doc.tables[3].rows]
    for i in m["indicators"]:
        assert [i["indicator"], fmt_percent(i["completion_rate"])] in [[r[0], r[3]] for r in indicators]
    scores = [[c.text for c in row.cells] for row in doc.tables[2].rows]
    assert scores[-1][0] == "总分" and scores[-1][-1] == fmt_score(s["total_score"])

    # Real Word tables: merged cells down the hierarchy, a repeating header (表2-2 is filed without group rows).
    xml = {i: t._tbl.xml for i, t in enumerate(doc.tables)}
    assert "w:vMerge" in xml[2] and "w:vMerge" in xml[4] and "w:gridSpan" not in xml[3]
    assert all("w:tblHeader" in x for x in xml.values())


# --- hostile text --------------------------------------------------------------------


def test_hostile_text_is_inert_in_every_format(drawn):
    settings, _ = drawn
    here = folder(settings, "PY-EDU")
    for page in ("index.html", "table_1_2.html", "table_2_2.html", "table_2_3.html"):
        html = (here / page).read_text(encoding="utf-8")
        assert "<script" not in html, page
    index = (here / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "&lt;b&gt;番禺区教育局&lt;/b&gt;" in index
    year = (settings.out_dir / "2022" / "index.html").read_text(encoding="utf-8")
    assert year.count("<script") == 1  # the page's own sorting script, nothing from a workbook
    assert "<b>番禺区教育局</b>" not in year and "&lt;b&gt;番禺区教育局&lt;/b&gt;" in year

    xlsx = here / "PY-EDU_2022.xlsx"
    with zipfile.ZipFile(xlsx) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not [n for n in sheets if "<f>" in archive.read(n).decode("utf-8")]
    book = load_workbook(xlsx)
    cells = {c.value: c for sheet in book for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    for text in (FORMULA, "任务1：=1+1", "@SUM(A1)", "-完成", SCRIPT):
        assert text in cells, text
        assert cells[text].data_type == "s"
    assert all(cells[t].quotePrefix for t in (FORMULA, "@SUM(A1)", "-完成"))

    doc = Document(str(here / "PY-EDU_2022.docx"))
    texts = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert {SCRIPT, FORMULA, "@SUM(A1)"} <= texts


# --- the bureau's index ------------------------------------------------------------


def test_year_index_lists_every_department_with_its_figures(drawn):
    settings, _ = drawn
    page = (settings.out_dir / "2022" / "index.html").read_text(encoding="utf-8")
    for dept in DEPTS:
        s = query(settings, "select * from mart.department_summary where dept_code = ?", [dept])[0]
        row = page[page.index(f'<a href="{dept}/index.html">'):]
        row = row[: row.index("</tr>")]
        assert fmt_score(s["total_score"]) in row and fmt_percent(s["execution_rate"]) in row
        assert f'<a href="{dept}/{dept}_2022.xlsx">Excel</a>' in row
        assert (folder(settings, dept) / "index.html").is_file()
    assert "共2个部门" in page
    # No previous year in this warehouse: no year-over-year columns.
    assert "2021年得分" not in page


def test_year_over_year_and_choosing_formats(drawn, tmp_path):
    from flows.year import run_year

    settings, _ = drawn
    raw = tmp_path / "raw"
    edu_2023 = dataclasses.replace(HOSTILE, info=HOSTILE.info | {"年度": 2023, "财政拨款支出（元）": "12,000,000.00"})
    write_workbook(edu_2023, raw / "2023" / "教育局.xlsx", PLAIN)

    run_year(2023, raw, settings.warehouse, settings.out_dir, formats=[])
    assert not (settings.out_dir / "2023" / "PY-EDU").exists()  # none: the data path alone
    assert not (settings.out_dir / "2023" / "index.html").exists()
    assert query(settings, "select count(*) as n from mart.department_summary where year = 2023") == [{"n": 1}]

    # Same workbooks and code: without force the ledger would skip the run as unchanged.
    summary = run_year(2023, raw, settings.warehouse, settings.out_dir, force=True, formats=["html", "xlsx"])
    here = settings.out_dir / "2023" / "PY-EDU"
    assert (here / "index.html").is_file() and (here / "PY-EDU_2023.xlsx").is_file()
    assert not list(here.glob("*.png")) and not list(here.glob("*.docx"))
    assert picture_warning(("html", "xlsx"), summary.loaded, summary.reports) is None

    page = (settings.out_dir / "2023" / "index.html").read_text(encoding="utf-8")
    this, last = (query(settings, "select * from mart.department_summary where dept_code = 'PY-EDU' and year = ?",
                        [y])[0] for y in (2023, 2022))
    assert "2022年得分" in page and "执行率增减（百分点）" in page
    assert fmt_score(last["total_score"]) in page and fmt_percent(last["execution_rate"]) in page
    change = (this["execution_rate"] - last["execution_rate"]) * 100
    assert f"{'+' if change > 0 else ''}{fmt_score(change)}" in page

    # Word alone now: the pages and the Excel file of the earlier drawing go, and the year's index,
    # drawn again though no HTML was asked for, links what is there and nothing older.
    run_year(2023, raw, settings.warehouse, settings.out_dir, force=True, formats=["docx"])
    assert sorted(p.name for p in here.iterdir()) == ["PY-EDU_2023.docx"]
    page = (settings.out_dir / "2023" / "index.html").read_text(encoding="utf-8")
    assert '<a href="PY-EDU/PY-EDU_2023.docx">Word</a>' in page
    assert "PY-EDU/index.html" not in page and "PY-EDU_2023.xlsx" not in page


# --- pictures ------------------------------------------------------------------------


def ink(image: Image.Image) -> float:
    """The share of pixels darker than light grey."""
    grey = image.convert("L")
    histogram = grey.histogram()
    return sum(histogram[:200]) / (grey.width * grey.height)


@needs_chromium
def test_tables_are_pictures_with_ink(drawn):
    settings, _ = drawn
    for name in ("table_1_1", "table_2_1", "table_2_3"):
        with Image.open(folder(settings, "PY-DPF") / f"{name}.png") as image:
            assert image.format == "PNG"
            # every table at one width and resolution: 16.6 cm, the report's line, when pasted
            assert image.width == png.WIDTH and image.height > 300
            assert tuple(round(d) for d in image.info["dpi"]) == (png.DPI, png.DPI)
            assert 0.01 < ink(image) < 0.6, name


@needs_chromium
def test_the_department_page_renders_in_chromium(drawn, tmp_path):
    import nokap

    settings, _ = drawn
    shot = tmp_path / "page.png"
    with png.browser(png.find_chromium()):
        nokap.webshot(folder(settings, "PY-DPF") / "index.html", shot, vwidth=1200, selector="main", delay=0.1)
    with Image.open(shot) as image:
        assert image.height > 3000  # every table and sentence, not an error page
        assert 0.01 < ink(image) < 0.6


@needs_chromium
def test_chinese_text_renders_with_a_cjk_font(tmp_path):
    """Chinese drawn as glyphs, not as the boxes of characters no font has (U+E000…)."""
    import nokap

    pages = {"chinese": "部门整体支出绩效自评得分表", "no_font": "\ue000" * 13}
    shots = {}
    with png.browser(png.find_chromium()):
        for name, text in pages.items():
            page = tmp_path / f"{name}.html"
            page.write_text(f'<meta charset="utf-8"><p id="t" style="font-size:32px;display:inline-block">{text}</p>',
                            encoding="utf-8")
            shots[name] = tmp_path / f"{name}.png"
            nokap.webshot(page, shots[name], selector="#t", delay=0.1)
    with Image.open(shots["chinese"]) as chinese, Image.open(shots["no_font"]) as missing:
        assert ink(chinese) > 0.02
        assert chinese.size != missing.size or ImageChops.difference(
            chinese.convert("L"), missing.convert("L")).getbbox() is not None


# --- choosing formats ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "chosen"),
    [("all", FORMATS), ("", FORMATS), ("none", ()), ("docx,html", ("html", "docx")), (" PNG , xlsx ", ("png", "xlsx"))],
)
def test_parse_formats(text, chosen):
    assert parse_formats(text) == chosen


def test_an_unknown_format_is_a_usage_error():
    from typer.testing import CliRunner

    from jixiao.cli import app

    result = CliRunner().invoke(app, ["run", "--year", "2022", "--formats", "pdf"])
    assert result.exit_code == 2 and "pdf" in result.output
    with pytest.raises(ValueError, match="pdf"):
        parse_formats("html,pdf")


def test_missing_pictures_are_one_warning(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CHROME_PATH", raising=False)
    assert png.find_chromium() is None
    assert picture_warning(FORMATS, ("PY-DPF",), ["a/index.html"]) == png.MISSING_CHROMIUM
    assert picture_warning(FORMATS, ("PY-DPF",), ["a/table_2_1.png"]) is None
    assert picture_warning(("html",), ("PY-DPF",), ["a/index.html"]) is None
    written, warning = png.save_pngs([(None, "never.png")])  # type: ignore[list-item]
    assert written == [] and warning == png.MISSING_CHROMIUM


def test_files_of_tables_no_longer_drawn_are_removed(tmp_path, monkeypatch):
    from jixiao.publish.outputs import write_departments
    from jixiao.publish.report import department_report
    from tests.test_report import FRAMES, SOURCE, TASK_OUTCOMES

    folder = tmp_path / "PY-DPF"
    with_tasks = department_report(source=SOURCE, **FRAMES)
    write_departments([(folder, with_tasks)], ("html",))
    assert (folder / "table_1_1.html").is_file()
    (folder / "table_2_1.png").write_bytes(b"a picture of last run's figures")

    # The workbook now has no 重点工作任务, and this machine no Chromium.
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CHROME_PATH", raising=False)
    without_tasks = department_report(source=SOURCE, **(FRAMES | {"task_outcomes": TASK_OUTCOMES.clear()}))
    written = write_departments([(folder, without_tasks)], ("html", "png"))
    assert written.warnings == [png.MISSING_CHROMIUM]
    assert not (folder / "table_1_1.html").exists() and (folder / "table_2_1.html").is_file()
    assert not list(folder.glob("*.png"))
