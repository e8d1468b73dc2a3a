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

import xlsxwriter

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

    def table(self, name: str, title: str, header: tuple[str, ...], widths: tuple[int, ...]):
        ws = self.wb.add_worksheet(name)
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        row = 0
        if self.layout.title_rows:
            ws.merge_range(0, 0, 0, len(header) - 1, title, self.title_fmt)
            row = 1
        for col, text in enumerate(header):
            ws.write_string(row, col, text, self.head_fmt)
        return ws, row + 1

    def put(self, ws, row: int, col: int, value, fmt=None) -> None:
        # Explicit write_* calls: the generic write() would turn "=..." into formulas and "http..." into links.
        fmt = fmt or self.cell_fmt
        if value is None:
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_number(row, col, value, fmt)

    def rate(self, ws, row: int, col: int, value) -> None:
        if isinstance(value, float):
            if self.layout.percent_cells:
                ws.write_number(row, col, value, self.pct_fmt)
                return
            value = f"{value:.2%}"
        self.put(ws, row, col, value)

    def amount(self, value):
        if self.factor == 1 or value is None:
            return value
        if isinstance(value, str):
            try:
                scaled = Decimal(value.replace(",", "")) * self.factor
            except InvalidOperation:
                return value  # not a number (a clerk's "六百万"): the loader must reject it as written
            return f"{scaled:,.2f}" if "," in value else f"{scaled:.2f}"
        return round(value * self.factor, 2)

    def pairs(self, ws, top: int, items: dict[str, object]) -> None:
        for i, (key, value) in enumerate(items.items()):
            if _WAN in key and self.factor != 1:
                key, value = key.replace(_WAN, f"（{self.layout.amount_unit}）"), self.amount(value)
            self.put(ws, top + i, 0, key)
            self.put(ws, top + i, 1, value)

    def hierarchy(self, ws, top: int, col: int, keys: list, values: list) -> None:
        """Write a column whose runs of equal keys are merged vertically (or repeated)."""
        for start, n in _runs(keys):
            if n > 1 and self.layout.merge_hierarchy:
                ws.merge_range(top + start, col, top + start + n - 1, col, "", self.cell_fmt)
                self.put(ws, top + start, col, values[start])
            else:
                for i in range(start, start + n):
                    self.put(ws, top + i, col, values[i])


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

        ws, top = w.table("基本情况", title("基本情况"), ("项目", "值"), (28, 40))
        w.pairs(ws, top, book.info)

        ws, top = w.table("重点工作任务", title("重点工作任务"), ("序号", "年度重点工作任务", "完成情况"), (6, 40, 80))
        for i, t in enumerate(book.tasks):
            for col, value in enumerate((t.no, t.name, t.outcome)):
                w.put(ws, top + i, col, value)

        inds = book.indicators
        scored = any(x.weight is not None or x.reported_score is not None for x in inds)
        header = ("一级指标", "二级指标", "三级指标", "指标值", "实际完成值", "完成率") + (("分值", "得分") if scored else ())
        ws, top = w.table("绩效指标", title("绩效指标"), header, (12, 14, 40, 24, 32, 10, 8, 8))
        w.hierarchy(ws, top, 0, [x.level1 for x in inds], [x.level1 for x in inds])
        w.hierarchy(ws, top, 1, [(x.level1, x.level2) for x in inds], [x.level2 for x in inds])
        for i, x in enumerate(inds):
            for col, value in ((2, x.name), (3, x.target), (4, x.actual)):
                w.put(ws, top + i, col, value)
            w.rate(ws, top + i, 5, x.reported_rate)
            if scored:
                w.put(ws, top + i, 6, x.weight)
                w.put(ws, top + i, 7, x.reported_score)

        projs = book.projects
        # Without a title row the unit has to travel in the header, or the amounts would read as 万元.
        money = ("预算金额", "支出金额") if layout.title_rows else (f"预算金额（{unit}）", f"支出金额（{unit}）")
        ws, top = w.table("项目支出", title("项目支出"), ("重点任务", "项目", *money, "预算完成率"), (36, 48, 14, 14, 12))
        w.hierarchy(ws, top, 0, [p.task for p in projs], [p.task for p in projs])
        for i, p in enumerate(projs):
            w.put(ws, top + i, 1, p.name)
            w.put(ws, top + i, 2, w.amount(p.budget))
            w.put(ws, top + i, 3, w.amount(p.spent))
            w.rate(ws, top + i, 4, p.reported_rate)
        row = top + len(projs)
        if book.project_total is not None:
            budget, spent, rate = book.project_total
            ws.merge_range(row, 0, row, 1, "合计", w.cell_fmt)
            w.put(ws, row, 2, w.amount(budget))
            w.put(ws, row, 3, w.amount(spent))
            w.rate(ws, row, 4, rate)
            row += 1
        for note in book.project_notes:
            ws.merge_range(row, 0, row, 4, "", w.note_fmt)
            w.put(ws, row, 0, note, w.note_fmt)
            # Merged cells never auto-fit; about 60 CJK characters fit across the table.
            ws.set_row(row, 15 * max(1, math.ceil(len(note) / 60)))
            row += 1

        items = book.score_items
        header = ("一级指标", "分值", "二级指标", "分值", "三级指标", "分值", "自评分")
        ws, top = w.table("自评得分", title("自评得分"), header, (12, 8, 12, 8, 40, 8, 8))
        l1 = [(s.level1, s.level1_weight) for s in items]
        l2 = [(s.level1, s.level1_weight, s.level2, s.level2_weight) for s in items]
        w.hierarchy(ws, top, 0, l1, [s.level1 for s in items])
        w.hierarchy(ws, top, 1, l1, [s.level1_weight for s in items])
        w.hierarchy(ws, top, 2, l2, [s.level2 for s in items])
        w.hierarchy(ws, top, 3, l2, [s.level2_weight for s in items])
        for i, s in enumerate(items):
            for col, value in ((4, s.name), (5, s.weight), (6, s.score)):
                w.put(ws, top + i, col, value)
        if book.score_total is not None:
            row = top + len(items)
            for col, value in enumerate(("总分", book.score_total[0], None, None, None, None, book.score_total[1])):
                w.put(ws, row, col, value)

        ws, top = w.table("报告数值", title("报告数值"), ("项目", "值"), (28, 16))
        w.pairs(ws, top, book.reported)
    return path
