"""The report's tables as data: what each row and cell holds, before any format draws it.

One `shape_table_*` per table of the report, from the marts' rows. The HTML and
PNG (report.py), the Excel workbook (excel_report.py) and the Word document
(word_report.py) all draw these same shapes, so the formats cannot disagree on a
row, a merged cell or a mark. Cells keep their typed values (Decimal 元, rate
fractions, scores); `cell_text` turns them into the report's text, and Excel
writes them as numbers with a number format instead.

A shaped table is the reviewer's: it marks computed scores (11.76*), flags the
rows below 90%, prints 小计 and group rows and, under it, its notes and source.
`filed` turns it into the table as the report files it, which the Excel and
Word writers draw; the table's lineage goes to one 说明 at the end of the file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from jixiao.publish.display import MISSING, fmt_number, fmt_percent, fmt_score, fmt_wan, round_half_up

UNNAMED = "（未命名）"
LOW_RATE = Decimal("0.9")

# How a column's values are written: "wan" is 元 shown as 万元, "percent" a rate
# fraction, "score" two decimals kept, "weight" a weight or count without trailing zeros.
TEXT, WAN, PERCENT, SCORE, WEIGHT = "text", "wan", "percent", "score", "weight"
_FORMATS = {WAN: fmt_wan, PERCENT: fmt_percent, SCORE: fmt_score, WEIGHT: fmt_number}


@dataclass(frozen=True)
class Marked:
    """A value shown with a mark after it (a computed score: 11.76*)."""

    value: Any
    mark: str


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT

    @property
    def is_number(self) -> bool:
        return self.kind != TEXT


@dataclass
class ReportTable:
    key: str  # file stem: table_2_3
    sheet: str  # short name, used for the Excel sheet: 表2-3
    id: str  # HTML id, fixed so output is deterministic
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    source: str
    # The column whose runs of equal values are drawn as row groups: a heading row
    # spanning the table, or (group_as_column) a first column merged down the group.
    group: str | None = None
    group_as_column: bool = False
    stubhead: str | None = None
    # (columns, rows): in these rows the cells of these columns continue the cell
    # above, as the report's merged hierarchical columns do.
    merged: list[tuple[tuple[str, ...], list[int]]] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    flag_column: str | None = None
    notes: list[str] = field(default_factory=list)
    # What the filed table leaves out: rows the report does not print (小计), and the group
    # headings when the report prints none (the group column then goes too).
    review_rows: list[int] = field(default_factory=list)
    filed_groups: bool = True
    # What the filed file says of this table in its 说明, where the notes under it would have said it.
    lineage: list[str] = field(default_factory=list)

    @property
    def body_columns(self) -> list[Column]:
        """The columns drawn in the body; the group column is drawn as groups instead."""
        return [c for c in self.columns if c.key != self.group or self.group_as_column]

    def groups(self) -> Iterator[tuple[str, list[int]]]:
        """(label, row indexes) of each run of equal group values, in order."""
        if self.group is None:
            yield "", list(range(len(self.rows)))
            return
        label: str | None = None
        members: list[int] = []
        for i, row in enumerate(self.rows):
            if members and row[self.group] != label:
                yield label or "", members
                members = []
            label = row[self.group]
            members.append(i)
        if members:
            yield label or "", members

    def header(self, column: Column) -> str:
        """A body column's header: the stubhead over the group column, else its label."""
        return self.stubhead if column.key == self.group and self.stubhead else column.label

    def merged_runs(self) -> dict[int, list[tuple[int, int]]]:
        """(first, last) rows of each merged cell, by body column index: the hierarchical columns' runs,
        and the group's when it is drawn as a column."""
        runs: dict[int, list[tuple[int, int]]] = {}
        for c, column in enumerate(self.body_columns):
            spans = self.spans(column.key)
            if column.key == self.group and self.group_as_column:
                spans = [(m[0], m[-1]) for _, m in self.groups() if len(m) > 1]
            if spans:
                runs[c] = spans
        return runs

    def spans(self, key: str) -> list[tuple[int, int]]:
        """(first, last) row of every merged run of column `key` longer than one row."""
        continued = {r for keys, rows in self.merged if key in keys for r in rows}
        runs: list[tuple[int, int]] = []
        for r in sorted(continued):
            if runs and runs[-1][1] == r - 1:
                runs[-1] = (runs[-1][0], r)
            else:
                runs.append((r - 1, r))
        return runs


def cell_text(value: Any, kind: str) -> str:
    """A cell as the report writes it."""
    if isinstance(value, Marked):
        return cell_text(value.value, kind) + value.mark
    if isinstance(value, str):
        return value
    if value is None:
        return MISSING
    return _FORMATS.get(kind, str)(value)


def is_low(rate: Any) -> bool:
    """Below 90% as printed, so a row showing 90.00% is never flagged."""
    if rate is None or isinstance(rate, str):
        return False
    shown = round_half_up(rate, 4)
    return shown is not None and shown < LOW_RATE


def lineage(tables: list[ReportTable]) -> list[str]:
    """Where the filed tables' figures came from, for the file's 说明: each source once, then each table's
    lineage lines, in order."""
    lines: list[str] = []
    for table in tables:
        for line in (table.source, *table.lineage):
            if line and line not in lines:
                lines.append(line)
    return lines


def unmarked(value: Any) -> Any:
    return value.value if isinstance(value, Marked) else value


def filed(table: ReportTable) -> ReportTable:
    """The table as the report files it: the same cells less their marks, no flagged rows, no notes
    or source under it, without the rows (小计) and group headings the report does not print.
    Merged cells, totals and groups follow the rows that stay; the lineage is kept for the 说明."""
    left_out = set(table.review_rows)
    kept = [i for i in range(len(table.rows)) if i not in left_out]
    new = {old: at for at, old in enumerate(kept)}
    columns, group = table.columns, table.group
    if group is not None and not table.filed_groups and not table.group_as_column:
        columns, group = [c for c in columns if c.key != group], None
    keys = {c.key for c in columns}
    rows = [{k: unmarked(v) for k, v in table.rows[i].items() if k in keys} for i in kept]
    merged = [(cols, _still_continued(continued, new)) for cols, continued in table.merged]
    return dataclasses.replace(
        table, columns=columns, rows=rows, group=group, merged=merged,
        totals=[new[r] for r in table.totals if r in new], flagged=[], flag_column=None, notes=[],
        review_rows=[], filed_groups=True,
    )


def _still_continued(continued: list[int], new: dict[int, int]) -> list[int]:
    """The kept rows that still continue the cell above: every row between them and the kept row above
    was a continuation too (left-out rows of the same run), so they are in the same merged run."""
    cont = set(continued)
    out = []
    for r in sorted(r for r in cont if r in new):
        above = r - 1
        while above >= 0 and above not in new and above in cont:
            above -= 1
        if above >= 0 and above in new:
            out.append(new[r])
    return out


def name_or_unnamed(text: str | None) -> str:
    return text if text and text.strip() else UNNAMED


def only_row(frame: pl.DataFrame, name: str) -> dict[str, Any]:
    if frame.height != 1:
        raise ValueError(f"{name}: expected exactly one row, got {frame.height}")
    return frame.row(0, named=True)


def table_id(table: str, frame: pl.DataFrame, name: str) -> str:
    keys = frame.select("dept_code", "year").unique()
    if keys.height != 1:
        raise ValueError(f"{name}: expected one department and year, got {keys.height}")
    dept_code, year = keys.row(0)
    return f"{table}-{dept_code}-{year}"


def _continuations(values: list[Any]) -> list[int]:
    """Rows whose value repeats the row above's (the cell above "merges" down)."""
    return [i for i in range(1, len(values)) if values[i] == values[i - 1]]


# --- 表1-1 -------------------------------------------------------------------

_NUMBERED = re.compile(r"^\s*任务\s*\d+\s*[：:]\s*")


def unnumbered(task: str | None) -> str | None:
    """A key task without the 任务N： a workbook may put before it."""
    return _NUMBERED.sub("", task) if task else task


def task_label(task_no: int | None, task: str | None) -> str:
    """任务1：… as the report numbers its key tasks, unless the workbook already did."""
    name = name_or_unnamed(task)
    if task_no is None or _NUMBERED.match(name):
        return name
    return f"任务{task_no}：{name}"


def shape_table_1_1(tasks: pl.DataFrame, summary: pl.DataFrame, source: str) -> ReportTable:
    head = only_row(summary, "summary")
    rows = [
        {"task": task_label(r["task_no"], r["task"]), "outcome": r["outcome"] or MISSING}
        for r in tasks.sort("task_no").iter_rows(named=True)
    ]
    return ReportTable(
        key="table_1_1", sheet="表1-1", id=table_id("t1-1", summary, "summary"),
        title=f"表1-1 {head['dept_short_name'] or head['dept_name']}{head['year']}年重点工作任务完成情况",
        columns=[Column("task", "年度重点工作任务"), Column("outcome", "完成情况")],
        rows=rows, source=source,
    )


# --- 表1-2 -------------------------------------------------------------------


def shape_table_1_2(indicators: pl.DataFrame, summary: pl.DataFrame, source: str) -> ReportTable:
    rows = [
        {
            "level1": r["level1"] or "",
            "level2": r["level2"] or "",
            "indicator": name_or_unnamed(r["indicator"]),
            "target": _stated(r["target_text"], r["target_value"], r["unit"]),
        }
        for r in indicators.sort("indicator_no").iter_rows(named=True)
    ]
    level1 = [r["level1"] for r in rows]
    level2 = [(r["level1"], r["level2"]) for r in rows]
    return ReportTable(
        key="table_1_2", sheet="表1-2", id=table_id("t1-2", summary, "summary"),
        title="表1-2 部门整体支出绩效指标表",
        columns=[Column("level1", "一级指标"), Column("level2", "二级指标"), Column("indicator", "三级指标"),
                 Column("target", "指标值")],
        rows=rows, source=source,
        merged=[(("level1",), _continuations(level1)), (("level2",), _continuations(level2))],
    )


# --- 表2-1 -------------------------------------------------------------------


def shape_table_2_1(scores: pl.DataFrame, summary: pl.DataFrame, source: str) -> ReportTable:
    head = only_row(summary, "summary")
    rows_in = list(scores.sort("item_no").iter_rows(named=True))
    rows = [
        {
            "level1": r["level1"] or "",
            "level1_weight": r["level1_weight"],
            "level2": r["level2"] or "",
            "level2_weight": r["level2_weight"],
            "item": name_or_unnamed(r["item"]),
            "weight": r["weight"],
            "score": Marked(r["score"], "*") if r["method"] == "computed" else r["score"],
        }
        for r in rows_in
    ]
    # Groups follow the source rows (None included), not the blanks shown for them.
    same_level1 = _continuations([r["level1"] for r in rows_in])
    same_level2 = _continuations([(r["level1"], r["level2"]) for r in rows_in])
    # The report's 总分 row carries the sum of the 一级指标 weights, under their column.
    full_marks = sum(
        (r["level1_weight"] for i, r in enumerate(rows_in) if i not in set(same_level1)
         and r["level1_weight"] is not None),
        Decimal(0),
    )
    columns = [
        Column("level1", "一级指标"), Column("level1_weight", "分值", WEIGHT),
        Column("level2", "二级指标"), Column("level2_weight", "分值", WEIGHT),
        Column("item", "三级指标"), Column("weight", "分值", WEIGHT), Column("score", "自评分", SCORE),
    ]
    rows.append(dict.fromkeys((c.key for c in columns), "")
                | {"level1": "总分", "level1_weight": full_marks, "score": head["total_score"]})

    notes, lineage = [], []
    computed = [name_or_unnamed(r["item"]) for r in rows_in if r["method"] == "computed"]
    if computed:
        notes.append("* 由系统按规则计算，其余为手工录入")
        lineage.append(f"由系统按规则计算自评分（表2-1）的三级指标：{'、'.join(computed)}；其余为手工录入")
    if head.get("ruleset"):
        notes.append(f"评分规则：{head['ruleset']}")
        lineage.append(f"评分规则：{head['ruleset']}")
    return ReportTable(
        key="table_2_1", sheet="表2-1", id=table_id("t2-1", summary, "summary"),
        title="表2-1 部门整体支出绩效自评得分表",
        columns=columns, rows=rows, source=source,
        merged=[(("level1", "level1_weight"), same_level1), (("level2", "level2_weight"), same_level2)],
        totals=[len(rows) - 1], notes=notes, lineage=lineage,
    )


# --- 表2-2 -------------------------------------------------------------------


def _stated(text: str | None, value: Any, unit: str | None) -> str:
    if text and text.strip():
        return text
    return MISSING if value is None else fmt_number(value) + (unit or "")


def _completion(row: dict[str, Any]) -> Any:
    match row["bucket"]:
        case "qualitative":
            return "定性：达成" if row["is_met"] else "定性：待复核"
        case "not_applicable":
            return "不适用"
        case _:
            return row["completion_rate"]


def shape_table_2_2(indicators: pl.DataFrame, source: str) -> ReportTable:
    ident = table_id("t2-2", indicators, "indicators")
    rows_in = list(indicators.sort("indicator_no").iter_rows(named=True))
    rows = [
        {
            "group": "／".join(x for x in (r["level1"], r["level2"]) if x) or UNNAMED,
            "indicator": name_or_unnamed(r["indicator"]),
            "target": _stated(r["target_text"], r["target_value"], r["unit"]),
            "actual": _stated(r["actual_text"], r["actual_value"], r["unit"]),
            "completion": _completion(r),
            "bucket": r["bucket"],
        }
        for r in rows_in
    ]
    # Row groups are drawn in order of first appearance, members together.
    first = {g: i for i, g in reversed(list(enumerate(r["group"] for r in rows)))}
    rows.sort(key=lambda r: first[r["group"]])
    # The bucket, not the rate, decides: it was cut on the printed rate upstream.
    low = [i for i, r in enumerate(rows) if r.pop("bucket") == "<90%"]
    return ReportTable(
        key="table_2_2", sheet="表2-2", id=ident,
        title=f"表2-2 {rows_in[0]['year']}年度部门工作任务绩效目标完成情况表",
        columns=[Column("group", "指标类别"), Column("indicator", "三级指标"), Column("target", "指标值"),
                 Column("actual", "实际完成值"), Column("completion", "完成率", PERCENT)],
        rows=rows, source=source, group="group",
        flagged=low, flag_column="completion",
        notes=["标红：完成率低于90%"] if low else [],
        filed_groups=False,  # the report prints the indicators alone, without their 一级／二级 headings
    )


# --- 表2-3 -------------------------------------------------------------------


def shape_table_2_3(projects: pl.DataFrame, tasks: pl.DataFrame, summary: pl.DataFrame, source: str) -> ReportTable:
    head = only_row(summary, "summary")
    by_task = {r["task_no"]: r for r in tasks.iter_rows(named=True)}
    rows: list[dict[str, Any]] = []
    totals: list[int] = []
    subtotals: list[int] = []

    def add(task: str, project: str, budget: Any, spent: Any, rate: Any, *, total: bool = False,
            subtotal: bool = False) -> None:
        if total or subtotal:
            totals.append(len(rows))
        if subtotal:
            subtotals.append(len(rows))
        rows.append({"task": task, "project": project, "budget": budget, "spent": spent, "rate": rate})

    for task_no in sorted(set(projects["task_no"].to_list()) | by_task.keys()):
        members = projects.filter(pl.col("task_no") == task_no).sort("project_no")
        task = by_task.get(task_no)
        label = name_or_unnamed(task["task"] if task is not None else members["task"][0])
        for p in members.iter_rows(named=True):
            add(label, name_or_unnamed(p["project"]), p["budget_yuan"], p["spent_yuan"], p["spend_rate"])
        # A one-project task's subtotal would only repeat its row.
        if task is not None and members.height > 1:
            add(label, "小计", task["budget_yuan"], task["spent_yuan"], task["spend_rate"], subtotal=True)
    add("合计", "", head["project_budget_yuan"], head["project_spent_yuan"], head["project_spend_rate"], total=True)
    low = [i for i, r in enumerate(rows) if is_low(r["rate"])]
    return ReportTable(
        key="table_2_3", sheet="表2-3", id=table_id("t2-3", summary, "summary"),
        title=f"表2-3 {head['year']}年度各重点任务项目支出完成情况（单位：万元）",
        columns=[Column("task", "重点任务"), Column("project", "项目"), Column("budget", "预算金额", WAN),
                 Column("spent", "支出金额", WAN), Column("rate", "预算完成率", PERCENT)],
        rows=rows, source=source, group="task", group_as_column=True, stubhead="重点任务",
        totals=totals, flagged=low, flag_column="rate",
        notes=["标红：预算完成率低于90%"] if low else [],
        review_rows=subtotals,  # the report prints each task's projects and the 合计, no 小计
    )
