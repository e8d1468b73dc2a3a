"""The reader's shortcuts answer as the long way would.

read_grid asks its questions of a sheet's distinct texts rather than of every
cell, and skips compacting a text whose first character already rules out
every label it looks for; _checked is asked only of text holding '#'; _typed
remembers the numbers it parsed. Each shortcut rests on a fact checked here,
so a change to the labels, the error spellings or Unicode that broke it fails
a test rather than a reading.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from jixiao.ingest.extract import _number, _RowError, _typed
from jixiao.ingest.numbers import EXCEL_ERRORS, CellValueError, compact
from jixiao.ingest.read import _LABEL_INITIALS, Table, Workbook, _may_start, read_grid
from jixiao.ingest.sheets import DEPARTMENT_SHEETS, INDICATORS, PROJECTS, SHEETS, TASKS

CJK = range(0x4E00, 0xA000)  # what _may_start takes as plain: U+4E00..U+9FFF
ALL_INITIALS = _LABEL_INITIALS.union(*(spec.header_initials for spec in SHEETS))


def test_every_initial_is_a_cjk_ideograph():
    assert all(ord(c) in CJK for c in ALL_INITIALS)


def test_nfkc_keeps_every_cjk_ideograph_and_composes_none():
    for cp in CJK:
        c = chr(cp)
        assert unicodedata.normalize("NFKC", c) == c and unicodedata.decomposition(c) == "", hex(cp)
    # No character decomposes canonically into an ideograph and what follows it, so none is
    # composed from one (a singleton, as U+F900 -> U+8C48, is never composed).
    for cp in range(0x110000):
        decomposition = unicodedata.decomposition(chr(cp)).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            assert int(decomposition[0], 16) not in CJK, hex(cp)


def test_nfkc_makes_no_cjk_ideograph_of_what_may_start_rules_out():
    # A text starting (after spaces) with one of these: compact keeps a non-space character
    # of it first, and that is no ideograph.
    for cp in [*range(0x2E80), *range(0xFF01, 0xFF5F)]:
        c = chr(cp)
        if c.isspace():
            continue  # stripped before asking
        lead = re.sub(r"\s+", "", unicodedata.normalize("NFKC", c))
        assert lead and ord(lead[0]) not in CJK, hex(cp)
        assert not _may_start(c + "合计", ALL_INITIALS)


texts = st.text(st.one_of(
    st.sampled_from(sorted(ALL_INITIALS)), st.sampled_from(" \u3000\t（）：%％１2a\u0301\u00b4\u2460，"),
    st.characters(),
), max_size=8)


@given(texts)
def test_a_text_ruled_out_does_not_start_with_an_initial(text):
    if not _may_start(text, ALL_INITIALS):
        assert compact(text)[:1] not in ALL_INITIALS


def test_every_excel_error_is_spelled_with_a_hash():
    # read_grid asks _checked only of text holding '#'.
    assert all("#" in error for error in EXCEL_ERRORS)


def test_labels_written_unusually_are_still_found():
    """Totals, subtotals, notes and a repeated header in full-width forms and with spaces, as
    compact reads them, next to data starting with the same characters (合作…, 注重…)."""
    grid = [
        ["表2-3 项目支出（单位：万元）", "", "", "", ""],
        ["重点任务", "项目", "预算金额", "支出金额", "备注"],
        ["任务1：培训", "合作交流经费", 10.0, 9.0, ""],
        ["", "注重实效项目", 5.0, 5.0, "已核对"],
        ["　小 计", "", 15.0, 14.0, ""],
        ["重点工作任务", "项目名称", "预算金额（万元）", "支出数", ""],  # the header again, in synonyms
        ["任务2：宣传", "宣传经费", "１，０００．５", 800.0, ""],
        ["合　计", "", 1015.5, 814.0, ""],
        ["注：金额单位为万元", "", "", "", ""],
    ]
    book = Workbook(Path("d.xlsx"), DEPARTMENT_SHEETS)
    table = read_grid(book, PROJECTS, "项目支出", grid)
    assert [(row, cells["project"]) for row, cells in table.rows] == [(3, "合作交流经费"), (4, "注重实效项目"), (7, "宣传经费")]
    assert table.rows[1][1]["task"] == "任务1：培训"  # left blank below its task
    assert [row for row, _ in table.totals] == [8]
    assert [row for row, _ in table.notes] == [4, 5, 9]  # 备注：已核对, the 小计, the note


def test_errors_are_found_in_any_spelling():
    grid = [["一级指标", "二级指标", "三级指标", "指标值", "实际完成值"],
            ["产出指标", "数量指标", "培训人次", " #div/0! ", "#N/A"],
            ["产出指标", "数量指标", "#标签", "≥95%", "96%"]]
    table = read_grid(Workbook(Path("d.xlsx"), DEPARTMENT_SHEETS), INDICATORS, "绩效指标", grid)
    target, actual = table.rows[0][1]["target"], table.rows[0][1]["actual"]
    assert (target.rule, str(target)) == ("cell.excel_error", "#div/0!") and str(actual) == "#N/A"
    assert table.rows[1][1]["indicator"] == "#标签"  # '#' alone is text
    assert table.unusable == {target, actual}


def test_remembered_numbers_are_the_numbers_parsed():
    table = Table(PROJECTS, "项目支出", 1, {"budget": 2, "reported_rate": 4}, {"budget": Decimal(10_000)})
    values = (0.0, -0.0, 12.5, 12.5, -0.0, 0.0, "１２．５", "1,234.50万元", "12.5", 0.9876, 97.5, "95%", "95%", "abc")
    for value in values:
        for key, kind, what in (("budget", "amount", "预算金额"), ("reported_rate", "rate", "预算完成率")):
            try:
                expected = str(_number(kind, table.scales.get(key), value, what))  # str: -0.00 is not 0.00
            except CellValueError as exc:
                expected = exc.message  # and a failure names its column each time
            try:
                got = str(_typed(table, 2, {key: value}, key, kind, what))
            except _RowError as exc:
                got = exc.message
            assert got == expected, (value, kind)


def test_rows_shorter_than_the_header_end_in_blanks():
    # A CSV row or a hand-made grid may stop early and hold no "" at all: the padding is blank.
    grid = [["年度重点工作任务", "完成情况", "备注", "来源"], ["培训", "完成"], ["宣传"]]
    table = read_grid(Workbook(Path("d.csv"), DEPARTMENT_SHEETS), TASKS, "重点工作任务", grid)
    assert [(row, cells) for row, cells in table.rows] == [(2, {"task": "培训", "outcome": "完成"}),
                                                           (3, {"task": "宣传", "outcome": ""})]
    assert table.notes == []


def test_split_splits_at_what_a_regular_expression_calls_space():
    # normalize_text and compact collapse spaces with str.split(), not re.sub(r"\s+", ...).
    space = re.compile(r"\s")
    assert all(bool(space.fullmatch(chr(cp))) == chr(cp).isspace() for cp in range(0x110000))
