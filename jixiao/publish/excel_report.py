"""The report's tables as an Excel workbook: one sheet per table as the report files it, the sentences,
and a last 说明 sheet with where the figures came from.

The tables are the filed ones (tables.filed): no marks, no shading, no 小计 or
group rows the report does not print, nothing under them. Columns are as wide as
their text (fit.py), and every row that wraps gets an explicit height: Excel
grows such rows when it opens the file, but LibreOffice and WPS show the height
written, and the lines of a row without one overlap the next row.

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

from jixiao.publish.fit import PADDING, natural_widths, units, wrapped_lines
from jixiao.publish.sentences import OUTLINE
from jixiao.publish.tables import (
    PERCENT,
    SCORE,
    TEXT,
    WAN,
    WEIGHT,
    Column,
    Marked,
    ReportTable,
    cell_text,
    filed,
    lineage,
)

_NUMBER_FORMATS = {WAN: "#,##0.00", PERCENT: "0.00%", SCORE: "0.00", WEIGHT: "General"}
_FORMULA_START = ("=", "+", "-", "@")
_FONT = "宋体"
_SIZE = 10
# A text column wraps beyond this many units (25 CJK characters); see fit.py.
_MAX_TEXT = 50
# Points per line of 10-point text, as LibreOffice sets it with the CJK fonts it substitutes, and the
# cell's own margin: a shade generous, since a row too short hides text while one too tall only shows space.
_LINE = 14.5
_ROW_MARGIN = 3
_TITLE_SIZE = 14
# The widest table (in units) an A4 portrait page prints at about the report's own size.
_PORTRAIT = 110
# A fixed creation time keeps the file identical from run to run.
_CREATED = datetime(2000, 1, 1)


def _number(value: Any, kind: str) -> float:
    """The cell's number: 万元 for money (the tables' unit), the fraction for a rate."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return float(d.scaleb(-4) if kind == WAN else d)


def _height(lines: int, size: float = _SIZE) -> float:
    return round(lines * _LINE * size / _SIZE + _ROW_MARGIN, 1)


class _Formats:
    """xlsxwriter formats are objects added to the workbook: one per distinct set of properties."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.cache: dict[tuple, Format] = {}

    def __call__(self, **props: Any) -> Format:
        props = {"font_name": _FONT, "font_size": _SIZE, "valign": "vcenter", **props}
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
    """A filed table (tables.filed) as one sheet: its title, header and rows, and nothing below them."""
    sheet = book.add_worksheet(table.sheet)
    columns = table.body_columns
    last_col = len(columns) - 1
    border = {"border": 1}
    widths, _ = natural_widths(table, _MAX_TEXT)
    widths = [max(w, 6) for w in widths]
    lines = [1] * (len(table.rows) + 2)  # each sheet row's lines of text, the title and header first

    # structure: the title merged over the table, then the header row
    title_lines = wrapped_lines(table.title, sum(widths) * _SIZE / _TITLE_SIZE)
    _merge(sheet, (0, 0), (0, last_col), table.title, fmt,
           {"bold": True, "font_size": _TITLE_SIZE, "align": "center", "text_wrap": True})
    sheet.set_row(0, _height(title_lines, _TITLE_SIZE) + 6)
    for c, column in enumerate(columns):
        label = table.header(column)
        _write_text(sheet, 1, c, label, fmt, {**border, "bold": True, "align": "center", "text_wrap": True})
        sheet.set_column(c, c, widths[c])
        lines[1] = max(lines[1], wrapped_lines(label, widths[c]))

    # body: group headings take a row of their own unless the group is a column
    at = 2
    position: dict[int, int] = {}
    for label, members in table.groups():
        if table.group and not table.group_as_column:
            _merge(sheet, (at, 0), (at, last_col), label, fmt, {**border, "bold": True, "text_wrap": True})
            lines.append(1)
            lines[at] = wrapped_lines(label, sum(widths))
            at += 1
        for i in members:
            position[i] = at
            at += 1
    totals = set(table.totals)
    merged = table.merged_runs()
    # A merged cell's text is measured over its rows below; the rows' own cells here.
    in_merge = {(r, c) for c, runs in merged.items() for first, last in runs for r in range(first, last + 1)}
    for i, row in enumerate(table.rows):
        props = {**border, "bold": True} if i in totals else border
        for c, column in enumerate(columns):
            value = row[column.key]
            _write_cell(sheet, position[i], c, value, column, fmt, props)
            if column.kind == TEXT and (i, c) not in in_merge:
                lines[position[i]] = max(lines[position[i]], wrapped_lines(cell_text(value, column.kind), widths[c]))

    # merged cells: hierarchical columns, and the group when it is a column
    heights = [_height(n) for n in lines]
    for c, runs in merged.items():
        column = columns[c]
        for first, last in runs:
            props = {**border, "valign": "top", "text_wrap": True}
            value = table.rows[first][column.key]
            if column.kind == TEXT or isinstance(value, str) or value is None:
                text = cell_text(value, column.kind)
                _merge(sheet, (position[first], c), (position[last], c), text, fmt, props)
                # The merged cell's lines share its rows' height; the rows grow evenly when they fall short.
                span = range(position[first], position[last] + 1)
                short = _height(wrapped_lines(text, widths[c])) - sum(heights[r] for r in span)
                for r in span:
                    heights[r] += max(short, 0) / len(span)
            else:
                sheet.merge_range(position[first], c, position[last], c, "", fmt(**props))
                _write_cell(sheet, position[first], c, value, column, fmt, props)
    for r in range(1, len(heights)):
        sheet.set_row(r, round(heights[r], 1))

    sheet.freeze_panes(2, 0)
    sheet.repeat_rows(1)
    if sum(widths) > _PORTRAIT:
        sheet.set_landscape()  # else portrait, as the report's pages are
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    return sheet


def write_notes_sheet(book: xlsxwriter.Workbook, lines: list[str], fmt: _Formats) -> None:
    """说明: the lineage the reviewer's tables print under themselves (数据来源, 运行编号, 评分规则)."""
    sheet = book.add_worksheet("说明")
    width = min(max([units(line) for line in lines] + [20]) + PADDING, 100)
    sheet.set_column(0, 0, width)
    _write_text(sheet, 0, 0, "说明", fmt, {"bold": True})
    for at, line in enumerate(lines, start=1):
        _write_text(sheet, at, 0, line, fmt, {"text_wrap": True})
        sheet.set_row(at, _height(wrapped_lines(line, width)))


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
                sheet.set_row(at, _height(max(wrapped_lines(f"{heading}{subheading}", 36),
                                              wrapped_lines(sentences[key], 100))))
                at += 1


def write_workbook(tables: list[ReportTable], sentences: dict[str, str], title: str, path: Path) -> Path:
    """tables (one sheet each, in order, as filed), the sentences and the 说明, as one .xlsx file at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with xlsxwriter.Workbook(str(path), options) as book:
        notes = lineage(tables)
        book.set_properties({"title": title, "created": _CREATED, "comments": "\n".join(notes)})
        fmt = _Formats(book)
        for table in tables:
            write_table_sheet(book, filed(table), fmt)
        write_sentences_sheet(book, sentences, title, fmt)
        if notes:
            write_notes_sheet(book, notes, fmt)
    return path
