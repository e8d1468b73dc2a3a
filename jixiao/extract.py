"""From located tables to typed rows, one department at a time.

Every data row of a workbook leaves here either as a typed row (with its
source file, sheet and row) or as a quarantined row with the reason, and
every problem as a Finding that names the cell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from jixiao.findings import Finding, cell_ref
from jixiao.numbers import WAN, CellValueError, decimals_of, is_blank, normalize_text, parse_amount, parse_decimal, parse_rate, unit_scale
from jixiao.read import Table, Workbook
from jixiao.sheets import BASIC_KEYS, REPORTED_KEYS, compact, strip_unit_suffix
from jixiao.values import ValueParseError, parse_indicator_value, units_compatible

DEPT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LEADING_PUNCT = re.compile(r"^[\s:：,，.。;；、·\-—]+")


@dataclass
class Department:
    file: str
    year: int | None = None
    dept_code: str | None = None
    info: dict = field(default_factory=dict)
    rows: dict[str, list[dict]] = field(default_factory=dict)  # table key -> typed rows
    findings: list[Finding] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    columns: dict[str, dict[str, int]] = field(default_factory=dict)  # sheet -> column key -> index

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def error(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value: object = None) -> None:
        self._add("error", rule, message, sheet, cell, value)

    def warn(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value: object = None) -> None:
        self._add("warning", rule, message, sheet, cell, value)

    def _add(self, severity, rule, message, sheet, cell, value) -> None:
        shown = None if value is None else normalize_text(value)
        self.findings.append(Finding(severity, rule, message, self.file, sheet, cell, shown, self.dept_code))

    def quarantine(self, sheet: str, row: int, cells: dict, reason: str, rule: str) -> None:
        self.quarantined.append({
            "file": self.file, "sheet": sheet, "row": row, "rule": rule, "reason": reason,
            "cells": json.dumps({k: normalize_text(v) for k, v in cells.items()}, ensure_ascii=False),
        })


def extract_department(book: Workbook, folder_year: int) -> Department:
    dept = Department(book.file)
    dept.findings.extend(book.findings)
    dept.columns = {t.sheet: t.columns for t in book.tables.values()}
    if "basic" in book.tables:
        _basic(dept, book.tables["basic"], folder_year)
    dept.findings[:] = [
        Finding(f.severity, f.rule, f.message, f.file, f.sheet, f.cell, f.value, dept.dept_code) for f in dept.findings
    ]
    for key, extract in (("tasks", _tasks), ("indicators", _indicators), ("projects", _projects),
                         ("scores", _scores), ("reported", _reported)):
        dept.rows[key] = []
        if key in book.tables:
            extract(dept, book.tables[key])
    dept.rows["notes"] = [
        {"src_sheet": t.sheet, "src_row": r, "text": text} for t in book.tables.values() for r, text in t.notes
    ]
    return dept


class _RowError(Exception):
    def __init__(self, rule: str, message: str, key: str, value: object):
        super().__init__(message)
        self.rule, self.message, self.key, self.value = rule, message, key, value


def _typed(table: Table, row: int, cells: dict, key: str, kind: str, what: str):
    value = cells.get(key, "")
    try:
        if kind == "amount":
            yuan, exact = parse_amount(value, table.scales[key], what=what)
            return yuan, exact
        if kind == "rate":
            return parse_rate(value, what=what)
        return parse_decimal(value, what=what)
    except CellValueError as exc:
        raise _RowError(exc.rule, exc.message, key, value) from None


def _each_row(dept: Department, table: Table, build) -> None:
    """Run `build` per row; a row that fails is quarantined with its finding, never dropped."""
    for row, cells in table.rows:
        try:
            typed = build(row, cells)
        except _RowError as exc:
            dept.error(exc.rule, exc.message, table.sheet, table.cell(row, exc.key), exc.value)
            dept.quarantine(table.sheet, row, cells, exc.message, exc.rule)
            continue
        typed.update(src_sheet=table.sheet, src_row=row)
        for key in ("actual", "reported_rate", "reported_score"):
            if key in table.columns:
                typed[f"{key}_cell"] = table.cell(row, key)
        dept.rows[table.spec.key].append(typed)


def _text(table: Table, row: int, cells: dict, key: str, what: str, required: bool = True) -> str:
    text = normalize_text(cells.get(key, ""))
    if required and not text:
        raise _RowError("cell.required", f"{what}不能为空", key, cells.get(key, ""))
    return text


def _basic(dept: Department, table: Table, folder_year: int) -> None:
    labels = {strip_unit_suffix(lbl): (key, required, kind) for key, lbl, required, kind in BASIC_KEYS}
    found: dict[str, tuple[int, object, str]] = {}
    extra = {}
    for row, cells in table.rows:
        label = strip_unit_suffix(str(cells["label"]))
        if label in labels and labels[label][0] not in found:
            found[labels[label][0]] = (row, cells["value"], str(cells["label"]))
        elif label:
            extra[normalize_text(cells["label"])] = normalize_text(cells["value"])
    dept.info["extra"] = extra
    value_cell = lambda row: cell_ref(row, table.columns["value"])  # noqa: E731
    for key, label, required, kind in BASIC_KEYS:
        if key not in found or is_blank(found[key][1]):
            if required:
                dept.error("basic.key_missing", f"基本情况缺少“{label}”", table.sheet)
            dept.info[key] = None
            continue
        row, value, written = found[key]
        try:
            if kind == "amount":
                dept.info[key] = parse_amount(value, unit_scale(written) or WAN, what=label)[0]
            elif kind == "rate":
                dept.info[key] = parse_rate(value, what=label)
            elif kind == "number":
                dept.info[key] = parse_decimal(value, what=label)
            elif key == "dept_code":
                dept.info[key] = compact(value)
            else:
                dept.info[key] = normalize_text(value)
        except CellValueError as exc:
            dept.error(exc.rule, exc.message, table.sheet, value_cell(row), value)
            dept.info[key] = None
    code = dept.info.get("dept_code")
    if code is not None and not DEPT_CODE.match(code):
        dept.error("basic.dept_code_invalid", "部门编码只能包含字母、数字、“-”和“_”", table.sheet,
                   value_cell(found["dept_code"][0]), code)
    elif code:
        dept.dept_code = code
    year = dept.info.get("year")
    if year is not None:
        if year != int(year) or int(year) != folder_year:
            dept.error("basic.year_mismatch", f"年度与所在文件夹的年度 {folder_year} 不一致", table.sheet,
                       value_cell(found["year"][0]), found["year"][1])
        dept.year = int(year)
        dept.info["year"] = int(year)
    if dept.year is None or dept.year != folder_year:
        dept.year = folder_year


def _tasks(dept: Department, table: Table) -> None:
    def build(row, cells):
        task = _text(table, row, cells, "task", "年度重点工作任务")
        no = _typed(table, row, cells, "task_no", "number", "序号") if not is_blank(cells.get("task_no")) else None
        return {"task_no": int(no) if no is not None else None, "task": task,
                "outcome": _text(table, row, cells, "outcome", "完成情况", required=False)}
    _each_row(dept, table, build)
    for i, t in enumerate(dept.rows["tasks"], start=1):
        t["task_no"] = t["task_no"] or i


def _indicators(dept: Department, table: Table) -> None:
    def build(row, cells):
        typed = {
            "level1": _text(table, row, cells, "level1", "一级指标"),
            "level2": _text(table, row, cells, "level2", "二级指标"),
            "indicator": _text(table, row, cells, "indicator", "三级指标"),
        }
        parsed = {}
        for key, what in (("target", "指标值"), ("actual", "实际完成值")):
            try:
                parsed[key] = parse_indicator_value(cells.get(key))
            except ValueParseError as exc:
                raise _RowError(exc.rule, f"{what}无法识别：{exc.message}", key, cells.get(key)) from None
        target, actual = parsed["target"], parsed["actual"]
        if not units_compatible(target, actual):
            raise _RowError("indicator.unit_mismatch",
                            f"指标值单位“{target.unit or '无'}”与实际完成值单位“{actual.unit or '无'}”不一致",
                            "actual", cells.get("actual"))
        if target.direction == "higher" and target.number == 0:
            raise _RowError("indicator.target_zero", "指标值为 0，无法计算完成率", "target", cells.get("target"))
        typed.update(
            target_text=normalize_text(cells.get("target")), target_value=target.number, target_unit=target.unit,
            target_comparator=target.comparator, direction=target.direction,
            actual_text=normalize_text(cells.get("actual")), actual_value=actual.number, actual_unit=actual.unit,
            actual_direction=actual.direction, actual_met=actual.met,
        )
        for key, kind, what in (("reported_rate", "rate", "完成率"), ("weight", "number", "分值"),
                                ("reported_score", "number", "得分")):
            blank = key not in cells or is_blank(cells[key])
            typed[key] = None if blank else _typed(table, row, cells, key, kind, what)
        return typed
    _each_row(dept, table, build)
    for i, t in enumerate(dept.rows["indicators"], start=1):
        t["indicator_no"] = i


_TASK_NO = re.compile(r"^任务\s*(\d+)")


def _task_numbers(tasks: list[str]) -> dict[str, int]:
    """任务N keeps N; other tasks (其他需完成的任务) follow the highest N in order of appearance.

    When the written numbers are not unique, appearance order is the only honest numbering.
    """
    written = {t: int(m.group(1)) for t in tasks if (m := _TASK_NO.match(compact(t)))}
    if len(set(written.values())) != len(written):
        return {t: i for i, t in enumerate(tasks, start=1)}
    numbers, after = dict(written), max(written.values(), default=0)
    for t in tasks:
        if t not in numbers:
            after += 1
            numbers[t] = after
    return numbers


def _projects(dept: Department, table: Table) -> None:

    def build(row, cells):
        task = _text(table, row, cells, "task", "重点任务")
        raw_name = _text(table, row, cells, "project", "项目名称")
        name = _LEADING_PUNCT.sub("", raw_name)
        if name != raw_name:
            dept.warn("text.leading_punctuation", "项目名称以多余的标点开头，已去除后载入", table.sheet,
                      table.cell(row, "project"), raw_name)
        if not name:
            raise _RowError("cell.required", "项目名称不能为空", "project", raw_name)
        budget, budget_exact = _typed(table, row, cells, "budget", "amount", "预算金额")
        spent, spent_exact = _typed(table, row, cells, "spent", "amount", "支出金额")
        for key, exact in (("budget", budget_exact), ("spent", spent_exact)):
            if not exact:
                dept.warn("amount.sub_cent", "金额精度超过“分”，已按四舍五入保留到分", table.sheet,
                          table.cell(row, key), cells[key])
        if spent > budget:
            dept.warn("project.overspent", "支出金额大于预算金额", table.sheet, table.cell(row, "spent"), cells["spent"])
        reported = None if is_blank(cells.get("reported_rate")) else _typed(table, row, cells, "reported_rate", "rate", "预算完成率")
        return {"task": task, "project": name, "budget_yuan": budget,
                "spent_yuan": spent, "reported_rate": reported}
    _each_row(dept, table, build)
    numbers = _task_numbers(list(dict.fromkeys(p["task"] for p in dept.rows["projects"])))
    for i, p in enumerate(dept.rows["projects"], start=1):
        p["project_no"] = i
        p["task_no"] = numbers[p["task"]]
    for row, cells in table.totals:
        for key, figure, kind in (("budget", "project_budget_total", "amount"), ("spent", "project_spent_total", "amount"),
                                  ("reported_rate", "project_spend_rate_total", "rate")):
            if key in cells and not is_blank(cells[key]):
                _stated(dept, table, row, cells, key, figure, kind)


def _scores(dept: Department, table: Table) -> None:
    def build(row, cells):
        typed = {k: _text(table, row, cells, k, w) for k, w in (("level1", "一级指标"), ("level2", "二级指标"))}
        typed["item"] = _text(table, row, cells, "item", "三级指标", required=False)
        for key, what in (("level1_weight", "一级指标分值"), ("level2_weight", "二级指标分值"), ("weight", "三级指标分值")):
            typed[key] = _typed(table, row, cells, key, "number", what)
        score_blank = is_blank(cells.get("reported_score"))
        typed["reported_score"] = None if score_blank else _typed(table, row, cells, "reported_score", "number", "自评分")
        if not typed["item"]:
            dept.warn("score.item_unnamed", f"“{typed['level2']}”下有一项分值为 {typed['weight']} 的三级指标没有名称",
                      table.sheet, table.cell(row, "item"))
        return typed
    _each_row(dept, table, build)
    for i, s in enumerate(dept.rows["scores"], start=1):
        s["item_no"] = i
    for row, cells in table.totals:
        for key, figure in (("level1_weight", "score_weight_total"), ("reported_score", "score_total")):
            if key in cells and not is_blank(cells[key]):
                _stated(dept, table, row, cells, key, figure, "number")


def _stated(dept: Department, table: Table, row: int, cells: dict, key: str, figure: str, kind: str) -> None:
    """A figure the workbook states (a 合计 row) is kept for reconciliation, never loaded as data."""
    value = cells[key]
    try:
        if kind == "amount":
            number = parse_amount(value, table.scales[key])[0]
            tolerance = _half_unit(value) * table.scales[key]
        elif kind == "rate":
            number = parse_rate(value)
            tolerance = _half_unit(value) / (100 if _is_percent_points(value) else 1)
        else:
            number = parse_decimal(value)
            tolerance = _half_unit(value)
    except CellValueError as exc:
        dept.warn(exc.rule, f"合计行无法识别：{exc.message}", table.sheet, table.cell(row, key), value)
        return
    dept.rows.setdefault("stated", []).append({
        "figure": figure, "reported_text": normalize_text(value), "reported_value": number, "tolerance": tolerance,
        "src_sheet": table.sheet, "src_row": row, "src_cell": table.cell(row, key),
    })


def _half_unit(value: object) -> Decimal:
    return Decimal(5) / Decimal(10) ** (decimals_of(value) + 1)


def _is_percent_points(value: object) -> bool:
    if isinstance(value, str):
        return compact(value).endswith("%") or abs(parse_decimal(compact(value).rstrip("%"))) > 3
    return abs(parse_decimal(value)) > 3


def _reported(dept: Department, table: Table) -> None:
    known = {strip_unit_suffix(lbl): (key, kind) for key, lbl, kind in REPORTED_KEYS}
    for row, cells in table.rows:
        written = normalize_text(cells["label"])
        key, kind = known.get(strip_unit_suffix(written), (None, None))
        value = cells["value"]
        entry = {"figure": key, "label": written, "reported_text": normalize_text(value), "reported_value": None,
                 "tolerance": None, "src_sheet": table.sheet, "src_row": row, "src_cell": table.cell(row, "value")}
        try:
            if kind == "amount":
                scale = unit_scale(written) or WAN
                entry["reported_value"] = parse_amount(value, scale)[0]
                entry["tolerance"] = _half_unit(value) * scale
            elif kind == "rate":
                entry["reported_value"] = parse_rate(value)
                entry["tolerance"] = _half_unit(value) / (100 if _is_percent_points(value) else 1)
            elif kind in ("count", "score"):
                entry["reported_value"] = parse_decimal(value)
                entry["tolerance"] = _half_unit(value)
        except CellValueError as exc:
            dept.warn(exc.rule, f"报告数值“{written}”无法识别：{exc.message}", table.sheet, entry["src_cell"], value)
        dept.rows["reported"].append(entry)
