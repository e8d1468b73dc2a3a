"""The report's tables as an Excel workbook: one formatted sheet per table, and the sentences.

Figures are real numbers with number formats (万元 as #,##0.00, rates as 0.00%),
so they can be summed and checked in Excel; the cell shows what the HTML table
shows. Text from the workbooks is always written as a string: with
`strings_to_formulas` off and `write_string`, "=1+1" or "@SUM(A1)" stays text,
and the quote prefix keeps it text when someone edits the cell.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from jixiao.publish.sentences import OUTLINE
from jixiao.publish.tables import PERCENT, SCORE, TEXT, WAN, WEIGHT, Column, Marked, ReportTable, cell_text

_NUMBER_FORMATS = {WAN: "#,##0.00", PERCENT: "0.00%", SCORE: "0.00", WEIGHT: "General"}
_FORMULA_START = ("=", "+", "-", "@")
_FONT = "宋体"
_FLAG_FILL = "#FDECEA"
_ALERT = "#B3261E"
# A fixed creation time keeps the file identical from run to run.
_CREATED = datetime(2000, 1, 1)


def _number(value: Any, kind: str) -> float:
    """The cell's number: 万元 for money (the tables' unit), the fraction for a rate."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return float(d.scaleb(-4) if kind == WAN else d)


def _width(table: ReportTable, column: Column) -> float:
    if column.kind != TEXT:
        return 14
    longest = max([len(column.label)] + [len(cell_text(r[column.key], column.kind)) for r in table.rows])
    # CJK characters are about two columns wide; long text wraps instead of widening the sheet.
    return min(max(longest * 2 + 2, 10), 60)


class _Formats:
    """xlsxwriter formats are objects added to the workbook: one per distinct set of properties."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.cache: dict[tuple, Format] = {}

    def __call__(self, **props: Any) -> Format:
        props = {"font_name": _FONT, "font_size": 10, "valign": "vcenter", **props}
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.book.add_format(props)
        return self.cache[key]


def _write_text(sheet: Worksheet, row: int, col: int, text: str, fmt: _Formats, props: dict[str, Any]) -> None:
    if text.startswith(_FORMULA_START):
        props = {**props, "quote_prefix": True}
    sheet.write_string(row, col, text, fmt(**props))


def _write_cell(sheet: Worksheet, row: int, col: int, value: Any, column: Column, fmt: _Formats,
                props: dict[str, Any]) -> None:
    mark = ""
    if isinstance(value, Marked):
        value, mark = value.value, value.mark
    if column.kind == TEXT or value is None or isinstance(value, str):
        align = {"align": "right"} if column.is_number else {"text_wrap": True}
        _write_text(sheet, row, col, cell_text(value, column.kind) + mark, fmt, {**props, **align})
        return
    number_format = _NUMBER_FORMATS[column.kind]
    if mark:
        number_format = f'{number_format}"{mark}"'
    sheet.write_number(row, col, _number(value, column.kind), fmt(**props, num_format=number_format))


def _merge(sheet: Worksheet, first: tuple[int, int], last: tuple[int, int], text: str, fmt: _Formats,
           props: dict[str, Any]) -> None:
    if first == last:
        _write_text(sheet, *first, text, fmt, props)
        return
    # Merge blank, then write the text: merge_range would pass the text to write(), which guesses types.
    sheet.merge_range(*first, *last, "", fmt(**props))
    _write_text(sheet, *first, text, fmt, props)


def write_table_sheet(book: xlsxwriter.Workbook, table: ReportTable, fmt: _Formats) -> Worksheet:
    sheet = book.add_worksheet(table.sheet)
    columns = table.body_columns
    last_col = len(columns) - 1
    border = {"border": 1}

    # structure: the title merged over the table, then the header row
    _merge(sheet, (0, 0), (0, last_col), table.title, fmt, {"bold": True, "font_size": 14, "align": "center"})
    sheet.set_row(0, 28)
    for c, column in enumerate(columns):
        label = table.stubhead if column.key == table.group and table.stubhead else column.label
        _write_text(sheet, 1, c, label, fmt, {**border, "bold": True, "align": "center", "bg_color": "#F2F2F2",
                                              "text_wrap": True})
        sheet.set_column(c, c, _width(table, column))

    # body: group headings take a row of their own unless the group is a column
    at = 2
    position: dict[int, int] = {}
    for label, members in table.groups():
        if table.group and not table.group_as_column:
            _merge(sheet, (at, 0), (at, last_col), label, fmt, {**border, "bold": True, "bg_color": "#F7F7F7"})
            at += 1
        for i in members:
            position[i] = at
            at += 1
    flagged, totals = set(table.flagged), set(table.totals)
    for i, row in enumerate(table.rows):
        props = dict(border)
        if i in totals:
            props["bold"] = True
        if i in flagged:
            props["bg_color"] = _FLAG_FILL
        for c, column in enumerate(columns):
            cell = dict(props)
            if i in flagged and column.key == table.flag_column:
                cell.update(bold=True, font_color=_ALERT)
            _write_cell(sheet, position[i], c, row[column.key], column, fmt, cell)

    # merged cells: hierarchical columns, and the group when it is a column
    for c, column in enumerate(columns):
        runs = table.spans(column.key)
        if column.key == table.group and table.group_as_column:
            runs = [(m[0], m[-1]) for _, m in table.groups() if len(m) > 1]
        for first, last in runs:
            props = {**border, "valign": "top", "text_wrap": True}
            value = table.rows[first][column.key]
            if column.kind == TEXT or isinstance(value, str) or value is None:
                _merge(sheet, (position[first], c), (position[last], c), cell_text(value, column.kind), fmt, props)
            else:
                sheet.merge_range(position[first], c, position[last], c, "", fmt(**props))
                _write_cell(sheet, position[first], c, value, column, fmt, props)

    # notes and the source below the table
    at += 1
    for note in [*table.notes, table.source]:
        _merge(sheet, (at, 0), (at, last_col), note, fmt, {"font_size": 9, "font_color": "#555555"})
        at += 1

    sheet.freeze_panes(2, 0)
    sheet.repeat_rows(1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    return sheet


def write_sentences_sheet(book: xlsxwriter.Workbook, sentences: dict[str, str], title: str, fmt: _Formats) -> None:
    sheet = book.add_worksheet("报告文字")
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 1, 100)
    _merge(sheet, (0, 0), (0, 1), title, fmt, {"bold": True, "font_size": 14, "align": "center"})
    at = 1
    for heading, subheading, keys, _table in OUTLINE:
        for key in keys:
            if key in sentences:
                _write_text(sheet, at, 0, f"{heading}{subheading}", fmt, {"text_wrap": True, "valign": "top"})
                _write_text(sheet, at, 1, sentences[key], fmt, {"text_wrap": True})
                at += 1


def write_workbook(tables: list[ReportTable], sentences: dict[str, str], title: str, path: Path) -> Path:
    """tables (one sheet each, in order) and the sentences, as one .xlsx file at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with xlsxwriter.Workbook(str(path), options) as book:
        book.set_properties({"title": title, "created": _CREATED})
        fmt = _Formats(book)
        for table in tables:
            write_table_sheet(book, table, fmt)
        write_sentences_sheet(book, sentences, title, fmt)
    return path
