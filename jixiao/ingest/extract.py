"""From located tables to typed rows, one department at a time.

Every data row of a workbook leaves here either as a typed row (with its
source file, sheet and row) or as a quarantined row with the reason, and
every problem as a Finding that names the cell.
"""

from __future__ import annotations

import functools
import logging
import re
from decimal import Decimal
from pathlib import Path

from jixiao.domain import Department, Finding, cell_ref
from jixiao.ingest import limits
from jixiao.ingest.numbers import (
    WAN,
    CellValueError,
    decimals_of,
    half_width_digits,
    is_blank,
    normalize_text,
    parse_amount,
    parse_decimal,
    parse_rate,
    short_text_cache,
    unit_scale,
)
from jixiao.ingest.read import CellError, Table, Workbook, read_workbook
from jixiao.ingest.safe_text import shown_name
from jixiao.ingest.sheets import BASIC_KEYS, DEPARTMENT_SHEETS, REPORTED_KEYS, compact, strip_unit_suffix
from jixiao.ingest.values import ValueParseError, measures_nothing_against, parse_indicator_value, units_compatible

log = logging.getLogger(__name__)

DEPT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LEADING_PUNCT = re.compile(r"^[\s:：,，.。;；、·\-—]+")


def read_department(path: Path, folder_year: int) -> Department:
    """One department's input, read and typed. Never raises: whatever goes wrong with one file is a
    finding for that file, and the run goes on with the other departments."""
    try:
        dept = extract_department(read_workbook(path, DEPARTMENT_SHEETS), folder_year)
    except Exception as exc:  # the safety net under every rule above; a bug here must not cost the district its run
        log.debug("reading %s failed", path, exc_info=True)
        dept = Department(shown_name(Path(path).name), year=folder_year)
        dept.error("workbook.internal_error",
                   f"读取该文件时程序出错（{type(exc).__name__}：{str(exc)[:200]}），请将文件转交数据管理员")
        return dept
    if dept.ignored_sheets:
        log.info("%s: sheets of no known name, not read: %s", dept.file, ", ".join(dept.ignored_sheets))
    return dept


def extract_department(book: Workbook, folder_year: int) -> Department:
    dept = Department(book.file)
    dept.findings.extend(book.findings)
    dept.columns = {t.sheet: t.columns for t in book.tables.values()}
    dept.ignored_sheets = list(book.ignored_sheets)
    for row in book.unread:
        dept.quarantine(row["sheet"], row["row"], row["cells"], row["reason"], row["rule"])
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
    ] + dept.rows.get("notes", [])
    return dept


class _RowError(Exception):
    def __init__(self, rule: str, message: str, key: str, value: object):
        super().__init__(message)
        self.rule, self.message, self.key, self.value = rule, message, key, value


_LIMITS = {"amount": limits.MAX_AMOUNT_YUAN, "rate": limits.MAX_RATE, "number": limits.MAX_POINTS,
           "count": Decimal(limits.MAX_COUNTER)}


def _typed(table: Table, row: int, cells: dict, key: str, kind: str, what: str):
    value = cells.get(key, "")
    if kind == "amount":  # amounts seldom repeat: remembered, they would only push out the rest
        return _checked_number(kind, table.scales[key], value, what, key)
    # Weights, scores and rates repeat down a sheet and across departments. Only text and
    # floats but 0.0 are kept: 1, 1.0 and True would share an entry, and -0.0 equals 0.0 but
    # is another Decimal. A failure is asked again, to name the column in its message.
    if type(value) is float and value != 0 or type(value) is str and len(value) <= 64:
        typed = _kept_typed(kind, value)
        if typed is not None:
            return typed
    return _checked_number(kind, None, value, what, key)


def _checked_number(kind: str, scale: Decimal | None, value: object, what: str, key: str):
    """A cell as its column's kind (see _number), within the bounds of that kind; else a _RowError."""
    try:
        parsed = _number(kind, scale, value, what)
    except CellValueError as exc:
        raise _RowError(exc.rule, exc.message, key, value) from None
    number = parsed[0] if kind == "amount" else parsed
    _within(number, kind, what, key, value)
    if kind == "count" and number != number.to_integral_value():
        raise _RowError("number.not_an_integer", f"{what}应为整数", key, value)
    return parsed


def _number(kind: str, scale: Decimal | None, value: object, what: str):
    """A cell read as its column's kind: (元, exact) for an amount, a Decimal otherwise."""
    if kind == "amount":
        return parse_amount(value, scale, what=what)
    if kind == "rate":
        return parse_rate(value, what=what)
    return parse_decimal(value, what=what)


@functools.lru_cache(maxsize=1 << 14)
def _kept_typed(kind: str, value: float | str):
    """_checked_number of a cell not an amount, remembered; None where it fails its kind (or its bounds)."""
    try:
        return _checked_number(kind, None, value, "", "")
    except _RowError:
        return None


def _within(number: Decimal, kind: str, what: str, key: str, value: object) -> None:
    if abs(number) >= _LIMITS[kind]:
        raise _RowError("number.too_large", f"{what}数值过大，请检查是否多填了位数或单位", key, value)
    _not_too_small(number, kind, what, key, value)


def _not_too_small(number: Decimal, kind: str, what: str, key: str, value: object) -> None:
    if number and abs(number) < limits.RESOLUTION[kind]:
        raise _RowError("number.too_small", f"{what}数值过小（绝对值小于 {limits.RESOLUTION[kind]:f}），"
                        "请检查是否填错或公式有误", key, value)


def _each_row(dept: Department, table: Table, build) -> None:
    """Run `build` per row; a row that fails is quarantined with its finding, never dropped."""
    located = [(f"{key}_cell", key) for key in ("actual", "reported_rate", "reported_score") if key in table.columns]
    rows = dept.rows[table.spec.key]
    sheet = table.sheet
    for row, cells in table.rows:
        try:
            # Any unusable cell fails its row, even in a column kept only for reconciliation:
            # #DIV/0! in 完成率 means the department's own sheet is broken, and it should see that.
            if table.unusable and not table.unusable.isdisjoint(cells.values()):
                key, value = next((k, v) for k, v in cells.items() if isinstance(v, CellError))
                raise _RowError(value.rule, value.message, key, value)
            typed = build(row, cells)
        except _RowError as exc:
            dept.error(exc.rule, exc.message, table.sheet, table.cell(row, exc.key), exc.value)
            dept.quarantine(table.sheet, row, cells, exc.message, exc.rule)
            continue
        typed["src_sheet"], typed["src_row"] = sheet, row
        for name, key in located:
            typed[name] = table.cell(row, key)
        rows.append(typed)


def _text(table: Table, row: int, cells: dict, key: str, what: str, required: bool = True) -> str:
    text = normalize_text(cells.get(key, ""))
    if required and not text:
        raise _RowError("cell.required", f"{what}不能为空", key, cells.get(key, ""))
    return text


def _texts(table: Table, row: int, cells: dict, wanted: tuple[tuple[str, str, bool], ...]) -> dict[str, str]:
    """_text of each (key, what, required) in turn, as one dict."""
    return {key: _text(table, row, cells, key, what, required) for key, what, required in wanted}


def _basic_label(label: object) -> str:
    """全年预算数（元）, 部门名称： -> the key as BASIC_KEYS names it."""
    return strip_unit_suffix(str(label)).rstrip(":")


def _basic(dept: Department, table: Table, folder_year: int) -> None:
    labels = {_basic_label(lbl): (key, required, kind) for key, lbl, required, kind in BASIC_KEYS}
    found: dict[str, tuple[int, object, str]] = {}
    value_cell = lambda row: cell_ref(row, table.columns["value"])
    dept.basic_sheet = table.sheet
    for row, cells in table.rows:
        label = _basic_label(cells["label"])
        key = labels.get(label, (None,))[0]
        if key is not None and key not in found:
            found[key] = (row, cells["value"], str(cells["label"]))
        elif key is not None:
            first_row, first_value, _ = found[key]
            if normalize_text(first_value) != normalize_text(cells["value"]):
                dept.error("basic.key_duplicate",
                           f"“{normalize_text(cells['label'])}”填写了两次（第 {first_row} 行和第 {row} 行），且两处不一致",
                           table.sheet, value_cell(row), cells["value"])
        elif label:
            # of no known label (单位地址, 备注…): kept as a note of the sheet, label and value
            dept.rows.setdefault("notes", []).append({
                "src_sheet": table.sheet, "src_row": row,
                "text": f"{normalize_text(cells['label'])}：{normalize_text(cells['value'])}"})
    for key, label, required, kind in BASIC_KEYS:
        if key not in found or is_blank(found[key][1]):
            if required:
                dept.error("basic.key_missing", f"基本情况缺少“{label}”", table.sheet,
                           value_cell(found[key][0]) if key in found else None)
            dept.info[key] = None
            continue
        row, value, written = found[key]
        dept.basic_cells[key] = value_cell(row)
        dept.info[key] = None
        if isinstance(value, CellError):
            dept.error(value.rule, value.message, table.sheet, value_cell(row), value)
            continue
        try:
            if kind == "amount":
                number, exact = parse_amount(value, unit_scale(written) or WAN, what=label)
                _within(number, "amount", label, key, value)
                if not exact:
                    dept.warn("amount.sub_cent", f"{label}精度超过“分”，已按四舍五入保留到分", table.sheet,
                              value_cell(row), value)
            elif kind == "rate":
                number = parse_rate(value, what=label)
                _within(number, "rate", label, key, value)
            elif kind == "number":
                text = compact(value).removesuffix("年度").removesuffix("年") if key == "year" else value
                number = parse_decimal(text, what=label)
                _within(number, "count", label, key, value)
                if number != number.to_integral_value():
                    raise _RowError("number.not_an_integer", f"{label}应为整数", key, value)
            elif key == "dept_code":
                number = compact(value)
            else:
                number = normalize_text(value)
        except CellValueError as exc:
            dept.error(exc.rule, exc.message, table.sheet, value_cell(row), value)
            continue
        except _RowError as exc:
            dept.error(exc.rule, exc.message, table.sheet, value_cell(row), value)
            continue
        dept.info[key] = number
    code = dept.info.get("dept_code")
    if code is not None and not DEPT_CODE.match(code):
        dept.error("basic.dept_code_invalid", "部门编码只能包含字母、数字、“-”和“_”（最多 64 个字符）", table.sheet,
                   value_cell(found["dept_code"][0]), code)
    elif code:
        dept.dept_code = code
    year = dept.info.get("year")
    if year is not None:
        if int(year) != folder_year:
            dept.error("basic.year_mismatch", f"年度与所在文件夹的年度 {folder_year} 不一致", table.sheet,
                       value_cell(found["year"][0]), found["year"][1])
        dept.info["year"] = int(year)
    dept.year = folder_year


def _tasks(dept: Department, table: Table) -> None:
    def build(row, cells):
        task = _text(table, row, cells, "task", "年度重点工作任务")
        no = _typed(table, row, cells, "task_no", "count", "序号") if not is_blank(cells.get("task_no")) else None
        return {"task_no": int(no) if no is not None else None, "task": task,
                "outcome": _text(table, row, cells, "outcome", "完成情况", required=False)}
    _each_row(dept, table, build)
    for i, t in enumerate(dept.rows["tasks"], start=1):
        t["task_no"] = t["task_no"] or i


_INDICATOR_TEXTS = (("level1", "一级指标", True), ("level2", "二级指标", True), ("indicator", "三级指标", True))


def _indicators(dept: Department, table: Table) -> None:
    def build(row, cells):
        typed = _texts(table, row, cells, _INDICATOR_TEXTS)
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
        if measures_nothing_against(target, actual):
            raise _RowError("indicator.actual_not_a_number",
                            f"指标值为数值（{_shown_value(cells.get('target'))}），实际完成值“{_shown_value(cells.get('actual'))}”"
                            "不是数值，无法计算完成率；请填写实际完成的数值（与指标值同一单位）",
                            "actual", cells.get("actual"))
        if target.direction == "higher" and target.number == 0:
            raise _RowError("indicator.target_zero", "指标值为 0，无法计算完成率", "target", cells.get("target"))
        for key, value in (("target", target), ("actual", actual)):
            if value.number is not None:
                if abs(value.number) >= limits.MAX_VALUE:
                    raise _RowError("indicator.value_too_large", "数值过大，请检查是否多填了位数", key, cells.get(key))
                _not_too_small(value.number, "value", "", key, cells.get(key))
        typed.update(
            target_text=_shown_value(cells.get("target")), target_value=target.number, target_unit=target.unit,
            target_comparator=target.comparator, direction=target.direction,
            actual_text=_shown_value(cells.get("actual")), actual_value=actual.number, actual_unit=actual.unit,
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


@short_text_cache  # 指标值 and 实际完成值 repeat across departments
def _shown_value(value: object) -> str:
    # ９５％ typed in full-width mode is 95%; the report shows the figure, not the keyboard mode.
    return half_width_digits(normalize_text(value))


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


_PROJECT_TEXTS = (("task", "重点任务", True), ("project", "项目名称", True))


def _projects(dept: Department, table: Table) -> None:

    def build(row, cells):
        texts = _texts(table, row, cells, _PROJECT_TEXTS)
        task, raw_name = texts["task"], texts["project"]
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


_SCORE_TEXTS = (("level1", "一级指标", True), ("level2", "二级指标", True), ("item", "三级指标", False))


def _scores(dept: Department, table: Table) -> None:
    def build(row, cells):
        typed = _texts(table, row, cells, _SCORE_TEXTS)
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
    if isinstance(value, CellError):
        dept.error(value.rule, f"合计行：{value.message}", table.sheet, table.cell(row, key), value)
        return
    try:
        number, tolerance = _stated_figure(value, kind, table.scales.get(key, WAN))
    except CellValueError as exc:
        dept.warn(exc.rule, f"合计行无法识别：{exc.message}", table.sheet, table.cell(row, key), value)
        return
    if abs(number) >= limits.MAX_VALUE:
        dept.warn("number.too_large", "合计行数值过大，未用于核对", table.sheet, table.cell(row, key), value)
        return
    if number and abs(number) < limits.RESOLUTION["value"]:
        dept.warn("number.too_small", "合计行数值过小，未用于核对", table.sheet, table.cell(row, key), value)
        return
    dept.rows.setdefault("stated", []).append({
        "figure": figure, "reported_text": normalize_text(value), "reported_value": number, "tolerance": tolerance,
        "src_sheet": table.sheet, "src_row": row, "src_cell": table.cell(row, key),
    })


def _stated_figure(value: object, kind: str, scale: Decimal) -> tuple[Decimal, Decimal]:
    """A stated figure and its tolerance: half a unit of its last written digit, in the figure's own unit,
    so a match means the figure is the computed one rounded half up to the precision it was written in."""
    if kind == "amount":
        return parse_amount(value, scale)[0], _half_unit(value) * scale
    if kind == "rate":
        return parse_rate(value), _half_unit(value) / (100 if _is_percent_points(value) else 1)
    return parse_decimal(value), _half_unit(value)


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
        if isinstance(value, CellError):
            dept.error(value.rule, f"报告数值“{written}”：{value.message}", table.sheet, entry["src_cell"], value)
            dept.rows["reported"].append(entry)
            continue
        try:
            if kind is not None:
                entry["reported_value"], entry["tolerance"] = _stated_figure(value, kind, unit_scale(written) or WAN)
        except CellValueError as exc:
            dept.warn(exc.rule, f"报告数值“{written}”无法识别：{exc.message}", table.sheet, entry["src_cell"], value)
        reported = entry["reported_value"]
        if reported is not None and abs(reported) >= limits.MAX_VALUE:
            dept.warn("number.too_large", f"报告数值“{written}”数值过大，未用于核对", table.sheet, entry["src_cell"], value)
            entry["reported_value"] = entry["tolerance"] = None
        elif reported and abs(reported) < limits.RESOLUTION["value"]:
            dept.warn("number.too_small", f"报告数值“{written}”数值过小，未用于核对", table.sheet, entry["src_cell"], value)
            entry["reported_value"] = entry["tolerance"] = None
        dept.rows["reported"].append(entry)
