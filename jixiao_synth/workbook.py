"""One department's workbook content, and a writer producing the raw-workbook layout.

The writer exists to make workbooks the loader must accept: the bundled seed and
layout variants of it (titles or not, merged hierarchy or not, 万元 or 元).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

SHEETS = ("基本情况", "重点工作任务", "绩效指标", "项目支出", "自评得分", "报告数值")

DEFAULT_TITLES = {
    "基本情况": "{year}年度部门基本情况",
    "重点工作任务": "表1-1 {year}年度重点工作任务完成情况",
    "绩效指标": "表2-2 {year}年度部门工作任务绩效目标完成情况表",
    "项目支出": "表2-3 {year}年度各重点任务项目支出完成情况（单位：{unit}）",
    "自评得分": "表2-1 部门整体支出绩效自评得分表",
    "报告数值": "{year}年度报告数值",
}

_WAN = "（万元）"
# A fixed creation time keeps rebuilds of an unchanged book byte-identical.
_CREATED = datetime(2000, 1, 1)


@dataclass(frozen=True)
class Indicator:
    level1: str
    level2: str
    name: str
    target: str
    actual: str
    reported_rate: str | float | None = None
    weight: float | None = None
    reported_score: float | None = None


@dataclass(frozen=True)
class Project:
    task: str
    name: str
    budget: float | str
    spent: float | str
    reported_rate: str | float | None = None


@dataclass(frozen=True)
class ScoreItem:
    level1: str
    level1_weight: float
    level2: str
    level2_weight: float
    name: str
    weight: float
    score: float | None


@dataclass(frozen=True)
class Task:
    no: int
    name: str
    outcome: str


@dataclass(frozen=True)
class DepartmentBook:
    info: dict[str, object]
    tasks: tuple[Task, ...]
    indicators: tuple[Indicator, ...]
    projects: tuple[Project, ...]
    project_total: tuple[object, object, object] | None
    project_notes: tuple[str, ...]
    score_items: tuple[ScoreItem, ...]
    score_total: tuple[object, object] | None
    reported: dict[str, object]
    titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    title_rows: bool = True
    merge_hierarchy: bool = True
    # When False, float rates are written as text such as "99.93%".
    percent_cells: bool = True
    amount_unit: str = "万元"
    # The messier layouts departments hand in (raw-workbook.md, "Layout that must be accepted").
    # Every default below writes the plain layout above, byte for byte.
    sheet_names: Literal["names", "aliases"] = "names"  # aliases: 表2-2 for 绩效指标, 基本信息 for 基本情况…
    reverse_sheets: bool = False
    extra_sheets: bool = False  # an unknown 填表说明 sheet first and an empty Sheet1 last
    hidden_sheets: tuple[str, ...] = ()  # contract names of sheets to hide
    header_variants: bool = False  # synonyms, inner spaces, line breaks, full- and half-width brackets, units
    # Amounts, weights, scores and other figures: number cells, or text as typed ("444.62"), with
    # thousands separators ("3,549.27") or in full-width digits ("３，５４９．２７").
    numbers: Literal["cells", "text", "thousands", "full_width"] = "cells"
    rate_points: bool = False  # rates as numbers in percent points: 99.93 for 99.93%
    repeat_header_every: int = 0  # a table split over pages: a 续表 line and the header after every N data rows
    blank_row_every: int = 0  # a blank row after every N data rows
    hidden_row_every: int = 0  # every Nth data row hidden
    extra_columns: bool = False  # a 序号 column before each table and a 备注 column after it
    formulas: bool = False  # project rates and the 合计/总分 rows as formulas, with their cached values
    task_headings: bool = False  # 表2-3's tasks on rows of their own, above their projects
    signature_rows: bool = False  # 注：… and 填表人：… rows under the indicator and score tables


SHEET_ALIASES = {"基本情况": "基本信息", "重点工作任务": "表1-1", "绩效指标": "表 2-2", "项目支出": "表2-3",
                 "自评得分": "表2-1", "报告数值": "报告数据"}
# Header cells as other departments write them, per sheet: synonyms the contract lists, inner
# spaces, line breaks (项目支出's amounts get theirs, with units in both bracket widths, in the writer).
HEADER_VARIANTS = {
    "基本情况": {"项目": "名称", "值": "数值"},
    "重点工作任务": {"序号": "序 号", "年度重点工作任务": "重点工作任务"},
    "绩效指标": {"一级指标": " 一级指标", "二级指标": "二级\n指标", "三级指标": "指标名称", "指标值": "年度指标值",
                 "实际完成值": "实际值", "完成率": "指标完成率"},
    "项目支出": {"重点任务": "重点工作任务", "项目": "项目名称", "预算完成率": "预算执行率"},
    "自评得分": {"分值": "分 值", "自评分": "自评得分"},
    "报告数值": {"项目": "指标", "值": "报告值"},
}
_FULL_WIDTH = str.maketrans("0123456789.,%-", "０１２３４５６７８９．，％－")
# In an indicator's text only the figures go full-width: 95％ reads back as 95%, ，would not.
_FULL_WIDTH_FIGURES = str.maketrans("0123456789.%", "０１２３４５６７８９．％")


def _runs(keys: list) -> list[tuple[int, int]]:
    """(start, length) of each run of equal consecutive keys."""
    runs, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i - start))
            start = i
    return runs


def _year(info: dict[str, object]) -> str:
    value = next((v for k, v in info.items() if k.startswith("年度")), "")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decimal_text(value: float | int) -> str:
    """The shortest text of a number cell's value: 444.62, 2022, 4446200."""
    text = str(Decimal(repr(value)))
    return text[:-2] if text.endswith(".0") else text


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook, layout: Layout):
        if layout.amount_unit not in ("万元", "元"):
            raise ValueError(f"amount_unit must be 万元 or 元, not {layout.amount_unit!r}")
        self.wb, self.layout = wb, layout
        self.factor = 10000 if layout.amount_unit == "元" else 1
        base = {"valign": "vcenter", "border": 1}
        self.title_fmt = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "font_size": 12})
        self.head_fmt = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True})
        self.cell_fmt = wb.add_format({**base, "text_wrap": True})
        self.pct_fmt = wb.add_format({**base, "num_format": "0.00%"})
        self.note_fmt = wb.add_format({"valign": "top", "text_wrap": True})
        self.left: dict[str, int] = {}  # sheet -> columns before the table (a 序号 column)
        self.headers: dict[str, tuple[str, ...]] = {}

    def table(self, name: str, title: str, header: tuple[str, ...], widths: tuple[int, ...], *, serial: bool = True):
        layout = self.layout
        ws = self.wb.add_worksheet(SHEET_ALIASES[name] if layout.sheet_names == "aliases" else name)
        if name in layout.hidden_sheets:
            ws.hide()
        left = 1 if layout.extra_columns and serial else 0
        self.left[ws.name] = left
        if layout.header_variants:
            header = tuple(HEADER_VARIANTS[name].get(h, h) for h in header)
        header = (("序号",) if left else ()) + header + (("备注",) if layout.extra_columns else ())
        self.headers[ws.name] = header
        for col, width in enumerate(((6,) if left else ()) + widths):
            ws.set_column(col, col, width)
        row = 0
        if layout.title_rows:
            ws.merge_range(0, 0, 0, len(header) - 1, title, self.title_fmt)
            row = 1
        self._header(ws, row)
        return ws, row + 1

    def _header(self, ws, row: int) -> None:
        for col, text in enumerate(self.headers[ws.name]):
            ws.write_string(row, col, text, self.head_fmt)

    def rows(self, ws, top: int, n: int) -> tuple[list[int], int]:
        """Sheet rows of n data rows from `top`, and the next free row: the plain layout puts them
        one under another; a messy one breaks pages, leaves blank rows and hides some."""
        layout, positions, row = self.layout, [], top
        for i in range(n):
            if i and layout.repeat_header_every and i % layout.repeat_header_every == 0:
                if layout.title_rows:
                    ws.write_string(row, 0, "（续表）")
                    row += 1
                self._header(ws, row)
                row += 1
            if i and layout.blank_row_every and i % layout.blank_row_every == 0:
                row += 1
            if layout.hidden_row_every and i % layout.hidden_row_every == layout.hidden_row_every - 1:
                ws.set_row(row, None, None, {"hidden": True})
            if layout.extra_columns and i % 3 == 0:
                ws.write_string(row, len(self.headers[ws.name]) - 1, "已核对", self.cell_fmt)
            positions.append(row)
            row += 1
        return positions, row

    def serials(self, ws, positions: list[int]) -> None:
        if self.left.get(ws.name):
            for i, row in enumerate(positions, start=1):
                ws.write_number(row, 0, i, self.cell_fmt)

    def put(self, ws, row: int, col: int, value, fmt=None) -> None:
        # Explicit write_* calls: the generic write() would turn "=..." into formulas and "http..." into links.
        fmt = fmt or self.cell_fmt
        col += self.left.get(ws.name, 0)
        if value is None:
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_number(row, col, value, fmt)

    def number(self, value):
        """A figure (amount, weight, score) as the layout writes it: a number cell or typed text."""
        style = self.layout.numbers
        if style == "cells" or not isinstance(value, (int, float)) or isinstance(value, bool):
            return value
        if style == "text":
            return _decimal_text(value)
        text = f"{Decimal(_decimal_text(value)):,}"
        return text.translate(_FULL_WIDTH) if style == "full_width" else text

    def rate(self, ws, row: int, col: int, value) -> None:
        if isinstance(value, float):
            if self.layout.rate_points:
                value = float(Decimal(repr(value)) * 100)
                self.put(ws, row, col, self.number(value))
                return
            if self.layout.percent_cells:
                ws.write_number(row, col + self.left.get(ws.name, 0), value, self.pct_fmt)
                return
            value = f"{value:.2%}"
            if self.layout.numbers == "full_width":
                value = value.translate(_FULL_WIDTH)
        self.put(ws, row, col, value)

    def formula(self, ws, row: int, col: int, formula: str, value, *, rate: bool = False) -> None:
        """A formula cell holding `value` as its cached result, as Excel saves one."""
        fmt = self.cell_fmt
        if rate and isinstance(value, float):
            if self.layout.percent_cells:
                fmt = self.pct_fmt
            else:
                value = f"{value:.2%}"
        ws.write_formula(row, col + self.left.get(ws.name, 0), formula, fmt, "" if value is None else value)

    def cell(self, ws, row: int, col: int) -> str:
        return xl_rowcol_to_cell(row, col + self.left.get(ws.name, 0))

    def amount(self, value):
        if self.factor == 1 or value is None:
            return self.number(value)
        if isinstance(value, str):
            try:
                scaled = Decimal(value.replace(",", "")) * self.factor
            except InvalidOperation:
                return value  # not a number (a clerk's "六百万"): the loader must reject it as written
            return f"{scaled:,.2f}" if "," in value else f"{scaled:.2f}"
        return self.number(round(value * self.factor, 2))

    def pairs(self, ws, top: int, items: dict[str, object]) -> None:
        positions, _ = self.rows(ws, top, len(items))
        self.serials(ws, positions)
        for row, (key, value) in zip(positions, items.items()):
            if _WAN in key and self.factor != 1:
                key, value = key.replace(_WAN, f"（{self.layout.amount_unit}）"), self.amount(value)
            elif _WAN in key:
                value = self.amount(value)
            elif not isinstance(value, str):
                value = self.number(value)
            self.put(ws, row, 0, key)
            self.put(ws, row, 1, value)

    def hierarchy(self, ws, positions: list[int], col: int, keys: list, values: list) -> None:
        """Write a column whose runs of equal keys are merged vertically (or repeated); a run is
        broken where the rows are (a repeated header, a blank row), as a person would merge."""
        block = 0
        keyed = []
        for i, key in enumerate(keys):
            if i and positions[i] != positions[i - 1] + 1:
                block += 1
            keyed.append((block, key))
        for start, n in _runs(keyed):
            first, last = positions[start], positions[start + n - 1]
            if n > 1 and self.layout.merge_hierarchy:
                ws.merge_range(first, col + self.left.get(ws.name, 0), last, col + self.left.get(ws.name, 0), "",
                               self.cell_fmt)
                self.put(ws, first, col, values[start])
            else:
                for i in range(start, start + n):
                    self.put(ws, positions[i], col, values[i])

    def notes(self, ws, row: int, lines: tuple[str, ...], width: int) -> int:
        for note in lines:
            ws.merge_range(row, 0, row, width - 1, "", self.note_fmt)
            ws.write_string(row, 0, note, self.note_fmt)
            # Merged cells never auto-fit; about 60 CJK characters fit across the table.
            ws.set_row(row, 15 * max(1, math.ceil(len(note) / 60)))
            row += 1
        return row


def write_workbook(book: DepartmentBook, path: Path, layout: Layout = Layout()) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    year, unit = _year(book.info), layout.amount_unit

    def title(sheet: str) -> str:
        text = book.titles.get(sheet) or DEFAULT_TITLES[sheet].format(year=year, unit=unit)
        return text.replace("（单位：万元）", f"（单位：{unit}）")

    with xlsxwriter.Workbook(str(path)) as wb:
        wb.set_properties({"created": _CREATED})
        w = _Writer(wb, layout)

        def basic():
            ws, top = w.table("基本情况", title("基本情况"), ("项目", "值"), (28, 40))
            w.pairs(ws, top, book.info)

        def tasks():
            ws, top = w.table("重点工作任务", title("重点工作任务"), ("序号", "年度重点工作任务", "完成情况"), (6, 40, 80),
                              serial=False)
            positions, _ = w.rows(ws, top, len(book.tasks))
            for row, t in zip(positions, book.tasks):
                for col, value in enumerate((t.no, t.name, t.outcome)):
                    w.put(ws, row, col, value)

        def indicators():
            inds = book.indicators
            scored = any(x.weight is not None or x.reported_score is not None for x in inds)
            header = ("一级指标", "二级指标", "三级指标", "指标值", "实际完成值", "完成率") + (("分值", "得分") if scored else ())
            ws, top = w.table("绩效指标", title("绩效指标"), header, (12, 14, 40, 24, 32, 10, 8, 8))
            positions, end = w.rows(ws, top, len(inds))
            w.serials(ws, positions)
            w.hierarchy(ws, positions, 0, [x.level1 for x in inds], [x.level1 for x in inds])
            w.hierarchy(ws, positions, 1, [(x.level1, x.level2) for x in inds], [x.level2 for x in inds])
            for row, x in zip(positions, inds):
                for col, value in ((2, x.name), (3, x.target), (4, x.actual)):
                    if col > 2 and layout.numbers == "full_width" and isinstance(value, str):
                        value = value.translate(_FULL_WIDTH_FIGURES)
                    w.put(ws, row, col, value)
                w.rate(ws, row, 5, x.reported_rate)
                if scored:
                    w.put(ws, row, 6, w.number(x.weight))
                    w.put(ws, row, 7, w.number(x.reported_score))
            if layout.signature_rows:
                w.notes(ws, end, ("注：完成率=实际完成值÷指标值，越小越好的指标为指标值÷实际完成值。",), len(w.headers[ws.name]))

        def projects():
            projs = book.projects
            # Without a title row the unit has to travel in the header, or the amounts would read as 万元.
            money = ("预算金额", "支出金额") if layout.title_rows and not layout.header_variants else (
                (f"预算数（{unit}）", f"执行数({unit})") if layout.header_variants else (f"预算金额（{unit}）", f"支出金额（{unit}）"))
            ws, top = w.table("项目支出", title("项目支出"), ("重点任务", "项目", *money, "预算完成率"), (36, 48, 14, 14, 12))
            if layout.task_headings:
                items = [(kind, p) for i, p in enumerate(projs)
                         for kind in (("heading", "project") if i == 0 or projs[i - 1].task != p.task else ("project",))]
            else:
                items = [("project", p) for p in projs]
            positions, row = w.rows(ws, top, len(items))
            rows = [r for r, (kind, _) in zip(positions, items) if kind == "project"]
            w.serials(ws, rows)
            if layout.task_headings:
                for r, (kind, p) in zip(positions, items):
                    if kind == "heading":
                        w.put(ws, r, 0, p.task)
            else:
                w.hierarchy(ws, rows, 0, [p.task for p in projs], [p.task for p in projs])
            for r, p in zip(rows, projs):
                w.put(ws, r, 1, p.name)
                w.put(ws, r, 2, w.amount(p.budget))
                w.put(ws, r, 3, w.amount(p.spent))
                if layout.formulas and p.reported_rate is not None:
                    w.formula(ws, r, 4, f"={w.cell(ws, r, 3)}/{w.cell(ws, r, 2)}", p.reported_rate, rate=True)
                else:
                    w.rate(ws, r, 4, p.reported_rate)
            if book.project_total is not None:
                budget, spent, rate = book.project_total
                left = w.left.get(ws.name, 0)
                ws.merge_range(row, 0, row, 1 + left, "合计", w.cell_fmt)
                if layout.formulas and rows:
                    for col, value in ((2, w.amount(budget)), (3, w.amount(spent))):
                        w.formula(ws, row, col, f"=SUM({w.cell(ws, rows[0], col)}:{w.cell(ws, rows[-1], col)})", value)
                    w.formula(ws, row, 4, f"={w.cell(ws, row, 3)}/{w.cell(ws, row, 2)}", rate, rate=True)
                else:
                    w.put(ws, row, 2, w.amount(budget))
                    w.put(ws, row, 3, w.amount(spent))
                    w.rate(ws, row, 4, rate)
                row += 1
            w.notes(ws, row, book.project_notes, len(w.headers[ws.name]))

        def scores():
            items = book.score_items
            header = ("一级指标", "分值", "二级指标", "分值", "三级指标", "分值", "自评分")
            ws, top = w.table("自评得分", title("自评得分"), header, (12, 8, 12, 8, 40, 8, 8))
            positions, row = w.rows(ws, top, len(items))
            w.serials(ws, positions)
            l1 = [(s.level1, s.level1_weight) for s in items]
            l2 = [(s.level1, s.level1_weight, s.level2, s.level2_weight) for s in items]
            w.hierarchy(ws, positions, 0, l1, [s.level1 for s in items])
            w.hierarchy(ws, positions, 1, l1, [w.number(s.level1_weight) for s in items])
            w.hierarchy(ws, positions, 2, l2, [s.level2 for s in items])
            w.hierarchy(ws, positions, 3, l2, [w.number(s.level2_weight) for s in items])
            for r, s in zip(positions, items):
                for col, value in ((4, s.name), (5, w.number(s.weight)), (6, w.number(s.score))):
                    w.put(ws, r, col, value)
            if book.score_total is not None:
                weight, score = book.score_total
                w.put(ws, row, 0, "总分")
                w.put(ws, row, 1, w.number(weight))
                for col in (2, 3, 4, 5):
                    w.put(ws, row, col, None)
                if layout.formulas and positions:
                    w.formula(ws, row, 6, f"=SUM({w.cell(ws, positions[0], 6)}:{w.cell(ws, positions[-1], 6)})", w.number(score))
                else:
                    w.put(ws, row, 6, w.number(score))
                row += 1
            if layout.signature_rows:
                w.notes(ws, row, ("填表人：张三    联系电话：020-12345678", "审核人：李四"), len(w.headers[ws.name]))

        def reported():
            ws, top = w.table("报告数值", title("报告数值"), ("项目", "值"), (28, 16))
            w.pairs(ws, top, book.reported)

        order = [basic, tasks, indicators, projects, scores, reported]
        if layout.reverse_sheets:
            order.reverse()
        if layout.extra_sheets:
            wb.add_worksheet("填表说明").write_string(0, 0, "请按各表表头填写；金额单位为万元。")
        for write in order:
            write()
        if layout.extra_sheets:
            wb.add_worksheet("Sheet1")
    return path

