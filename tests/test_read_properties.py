"""Property tests of the sheet reader: any grid of cells gives tables or findings, never an exception.

The grids are drawn near the contract, where bugs live: header labels (and
their synonyms) in any order, titles and units above them, 合计/小计/注 rows,
numbers as people type them (full-width, grouped, with units, Excel errors),
merged ranges anywhere. Values the tests write round-trip exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jixiao.check.rulesets import load_rulesets
from jixiao.domain import Department
from jixiao.families import raw_tables
from jixiao.ingest.csv_input import decode, read_rows
from jixiao.ingest.extract import extract_department, read_department
from jixiao.ingest.numbers import parse_amount, parse_rate
from jixiao.ingest.read import Workbook, read_grid
from jixiao.ingest.sheets import DEPARTMENT_SHEETS, SHEETS, SheetSpec
from jixiao.load.staging import Staging
from jixiao.pipeline import check_departments
from jixiao_synth.workbook import _FULL_WIDTH, Layout, Project, write_workbook
from tests.test_other_departments import EDU

WORDS = ["合计", "总分", "小计", "注：说明", "填表人：张三", "（续表）", "表2-3 项目支出（单位：万元）", "单位：元", "任务1：培训",
         "产出指标", "数量指标", "≥95%", "不超过5%", "达到预期", "/", "无", "1,234.50", "１２３．４５", "97.65%", "#DIV/0!",
         "#REF!", "2022年", "PY-EDU", "番禺区教育局", "六百万", "-5", "1e5", " ", "\n", "=SUM(A1:A3)", "2022"]
LABELS = sorted({label for spec in SHEETS for c in spec.columns for label in (c.header, *c.synonyms)}
                | {"项目", "值", "部门名称", "部门编码", "年度", "全年预算数（元）", "财政拨款支出", "完成年度预算比例", "总得分"})

cells = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(LABELS),
    st.text(max_size=12),
    st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)).map(lambda d: dt.datetime(d.year, d.month, d.day)),
    st.just(""),
)


@st.composite
def sheet_grids(draw) -> tuple[SheetSpec, list[list[object]], list]:
    spec = draw(st.sampled_from(SHEETS))
    width = draw(st.integers(min_value=1, max_value=10))
    header = [c.header for c in spec.columns if c.required or draw(st.booleans())]
    header = draw(st.permutations(header)) if draw(st.booleans()) else header
    rows = draw(st.lists(st.lists(cells, max_size=width), max_size=4))  # titles
    if draw(st.booleans()):
        rows.append(list(header))
    rows += draw(st.lists(st.lists(cells, max_size=width + 2), max_size=12))
    height = max(len(rows), 1)
    corner = st.tuples(st.integers(0, height - 1), st.integers(0, width))
    merged = draw(st.lists(st.tuples(corner, corner).map(lambda p: (min(p[0], p[1]), max(p[0], p[1]))), max_size=4))
    return spec, rows, merged


def _department(tables: list[tuple[SheetSpec, list[list[object]], list]]) -> Department:
    book = Workbook(Path("任意.xlsx"), DEPARTMENT_SHEETS)
    for spec, grid, merged in tables:
        table = read_grid(book, spec, spec.name, grid, merged, hidden_rows={1, 3})
        if table is not None:
            book.tables[spec.key] = table
    return extract_department(book, 2022)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet_grids())
def test_any_grid_gives_a_table_or_findings(drawn):
    spec, grid, merged = drawn
    book = Workbook(Path("任意.xlsx"), DEPARTMENT_SHEETS)
    table = read_grid(book, spec, spec.name, grid, merged)
    if table is None:
        assert any(f.severity == "error" and f.sheet == spec.name for f in book.findings)
    else:
        # a row is data, a stated total or a note, once, and below the header
        placed = [row for row, _ in table.rows + table.totals] + [row for row, _ in table.notes]
        assert all(table.header_row < row <= len(grid) for row in placed)
        assert len({row for row, _ in table.rows + table.totals}) == len(table.rows) + len(table.totals)
        dept = _department([drawn])
        assert all(f.file == "任意.xlsx" for f in dept.findings)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sheet_grids(), min_size=1, max_size=6))
def test_any_workbook_validates_without_raising(sheets):
    dept = _department(sheets)
    with tempfile.TemporaryDirectory() as folder:
        batch = check_departments([dept], 2022, load_rulesets(), None, Staging(Path(folder), raw_tables()))
        quarantined = batch.quarantined_rows().to_dicts()
    assert all(f.rule and f.message for f in batch.findings)
    assert all(q["reason"] and q["sheet"] and q["row"] for q in quarantined)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]))
def test_any_bytes_named_xlsx_give_a_finding(tmp_path_factory, data, magic):
    path = tmp_path_factory.mktemp("bytes") / "任意.xlsx"
    path.write_bytes(magic + data)
    dept = read_department(path, 2022)
    assert dept.has_errors
    assert {f.file for f in dept.findings} == {"任意.xlsx"}
    assert not any(f.rule == "workbook.internal_error" for f in dept.findings), dept.findings


# --- round trips -----------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("-9999999999.99"), max_value=Decimal("9999999999.99"), places=2)


@given(amounts)
def test_amounts_as_typed_round_trip(amount):
    grouped = f"{amount:,}"
    for written in (str(amount), grouped, grouped.translate(_FULL_WIDTH), f"{amount}元", f"{amount / 10000}万元"):
        assert parse_amount(written, Decimal(1))[0] == amount, written
    assert parse_amount(float(amount), Decimal(1))[0] == amount


@given(st.decimals(min_value=Decimal("0.03"), max_value=Decimal("3"), places=4))
def test_rates_as_typed_round_trip(rate):
    for written in (f"{rate * 100}%", str(rate * 100) if rate * 100 > 3 else str(rate), float(rate)):
        assert parse_rate(written) == rate, written


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
       spent=st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2),
       layout=st.sampled_from([Layout(numbers="cells"), Layout(numbers="text"), Layout(numbers="thousands"),
                               Layout(numbers="full_width", percent_cells=False), Layout(amount_unit="元")]))
def test_written_amounts_are_read_back_exactly(tmp_path, budget, spent, layout):
    project = Project("任务1：教师培训", "教师培训经费", float(budget), float(spent))
    book = EDU.__class__(**{**EDU.__dict__, "projects": (project,)})
    path = write_workbook(book, tmp_path / "2022" / "rt.xlsx", layout)
    row = read_department(path, 2022).rows["projects"][0]
    assert (row["budget_yuan"], row["spent_yuan"]) == (budget * 10000, spent * 10000)


@settings(deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r\t"),
                                 max_size=8), min_size=1, max_size=5), max_size=6),
       st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_round_trips_in_each_encoding(tmp_path_factory, body, encoding):
    # A sheet's CSV starts with its header, as every real one does: a few bytes of Chinese
    # can be valid UTF-8 by chance (GBK 藕 is UTF-8 ź), a header line practically never is.
    rows = [["重点任务", "项目", "预算金额", "支出金额"], *body]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    path = tmp_path_factory.mktemp("csv") / "项目支出.csv"
    path.write_bytes(data)
    assert decode(data)[0].lstrip("\ufeff") == buffer.getvalue().lstrip("\ufeff")
    assert read_rows(path) == rows
