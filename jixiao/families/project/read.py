"""Reading the project form (项目支出绩效自评表) as printed: one form per sheet, one or several per workbook.

A form is not a table with one header row but blocks anchored by their labels
(labels.py): the header's label–value pairs, the funds block, the goals, the
indicator table, the 总分 row and the closing texts. A label's value is the next
filled cell to its right; merged cells are filled down from their top-left
cell (jixiao.ingest.read.label_grid, shared with the department reader).
Every value is typed with the department reader's parsers (amounts exact, in
元; rates as fractions; indicator values with their comparator and unit), and
every cell that cannot be typed is a finding naming that cell. Nothing is
scored or reconciled here: the SQL does that, on the frames this returns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import polars as pl
import python_calamine

from jixiao.domain import ProjectForm, cell_ref
from jixiao.families.project import labels as L
from jixiao.families.project.tables import TABLES, identity
from jixiao.ingest import limits
from jixiao.ingest.extract import _checked_number, _not_too_small, _RowError, _shown_value
from jixiao.ingest.frames import _columns, _frame
from jixiao.ingest.numbers import WAN, compact, is_blank, normalize_text, short_text_cache, unit_scale
from jixiao.ingest.read import CellError, label_grid, not_a_plain_input
from jixiao.ingest.safe_text import shown_name
from jixiao.ingest.sheets import strip_unit_suffix
from jixiao.ingest.values import IndicatorValue, ValueParseError, parse_indicator_value, units_compatible
from jixiao.ingest.xlsx_package import PackageError, XlsxPackage, is_encrypted_ooxml, sniff

log = logging.getLogger(__name__)

# Marks a clerk writes for "not applicable" in a number cell (the value cells' own are values.py's).
_NOT_APPLICABLE = frozenset({"/", "无", "—", "——", "-", "--", "－", "不适用", "\\"})
_YEAR = re.compile(r"((?:19|20)[0-9]{2})年")
_LEVEL1 = re.compile(r"^(?P<name>.*?)\(?(?P<weight>[0-9]+(?:\.[0-9]+)?)分\)?$")
_PREFIX = re.compile(r"^(?:指标\s*[0-9一二三四五六七八九十]+\s*[：:.、]|[(（]?[0-9]{1,2}[)）、]|[0-9]{1,2}[.．](?![0-9]))\s*")
_UNIT_CODE = re.compile(r"^(?P<code>[0-9A-Za-z]{3,32})\s*[-－—_]\s*(?P<name>\S.*)$")
_NOTE_LEVEL1 = re.compile(r"(产出|效益|满意度)(?:指标)?[^0-9，,；;。]{0,6}?([0-9]+(?:\.[0-9]+)?)分")
_MONEY_UNITS = {Decimal(100_000_000): "亿元", WAN: "万元", Decimal(1_000): "千元", Decimal(1): "元"}
_KIND_WORDS = {"amount": "amount", "rate": "rate", "number": "points"}


def _lookup(entries: Iterable[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """Compact label -> key, for (key, names) entries."""
    return {compact(name): key for key, names in entries for name in names}


_HEADER = _lookup((k, L.names(*v)) for k, v in L.HEADER.items())
_FUNDS_COLUMNS = _lookup((k, L.names(*v)) for k, v in L.FUNDS_COLUMNS.items())
_FUNDS_ROWS = _lookup((k, tuple(compact(n).removeprefix(compact(L.SUB_ROW_PREFIX)).lstrip(":")
                                for n in L.names(*v))) for k, v in L.FUNDS_ROWS.items())
_FUNDS_LABEL = frozenset(compact(n) for n in L.names(*L.FUNDS_LABEL))
_GOALS = _lookup((k, L.names(*v)) for k, v in L.GOALS.items())
_GOALS_LABEL = frozenset(compact(n) for n in L.names(*L.GOALS_LABEL))
_INDICATOR_COLUMNS = _lookup((k, L.names(label, synonyms)) for k, (label, synonyms, _) in L.INDICATOR_COLUMNS.items())
_REQUIRED_COLUMNS = tuple(k for k, (_, _, required) in L.INDICATOR_COLUMNS.items() if required)
_TOTAL = frozenset(compact(n) for n in L.names(*L.TOTAL))
_CLOSING = _lookup((k, L.names(*v)) for k, v in L.CLOSING.items())
_TITLE = compact(L.TITLE)
_FILLER = frozenset(compact(m) for m in L.FILLER_MARKS)
_NATURES = {compact(k): v for k, v in L.NATURE_COMPARATORS.items()}


@short_text_cache
def _label(value: object) -> str:
    """A cell as a label: compact, without a bracketed suffix (（万元）, （A）) or a trailing colon."""
    return strip_unit_suffix(value).rstrip(":") if isinstance(value, str) else ""


def _na(value: object) -> bool:
    return is_blank(value) or (isinstance(value, str) and compact(value) in _NOT_APPLICABLE)


_NOTE_STARTS = tuple(f"{p}:" for p in L.NOTE_PREFIXES)  # a footnote's label: 注:, 备注:, 说明:


# --- routing --------------------------------------------------------------------------------------

def _is_form(grid: list[list[object]]) -> bool:
    found = {_label(c) for row in grid for c in row if isinstance(c, str)}
    return any(_TITLE in t for t in found) or ("项目名称" in found and "年度资金总额" in found)


# A sheet's bytes without these never hold a form's title or its 年度资金总额 (spaced-out labels
# and labels split into rich-text runs are missed: such a workbook reaches the department reader,
# which says what it lacks).
_MARKS = (L.TITLE.encode(), "年度资金总额".encode())


@contextmanager
def _opened(path: Path) -> Iterator[tuple[object, XlsxPackage | None]]:
    """calamine's workbook and the package check of an .xlsx (None for an .xls); raises _Unreadable."""
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".xls"):
        raise _Unreadable("workbook.not_a_workbook", "不是 Excel 工作簿，请提交 .xlsx 工作簿")
    if path.stat().st_size > limits.MAX_FILE_BYTES:
        raise _Unreadable("workbook.too_large", f"文件过大（上限 {limits.MAX_FILE_BYTES // 2**20} MB），未读取")
    kind = sniff(path)
    if kind not in ("zip", "ole"):
        raise _Unreadable("workbook.not_a_workbook", f"文件不是 Excel 工作簿（{kind}），请提交 .xlsx 工作簿")
    package = None
    try:
        if kind == "zip":
            package = XlsxPackage(path)
        elif is_encrypted_ooxml(path):
            raise _Unreadable("workbook.encrypted", "工作簿设置了打开密码（已加密），无法读取；请取消密码后重新提交")
        try:
            source = python_calamine.CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises several types for a broken file; all mean the same to a clerk
            raise _Unreadable("workbook.unreadable", f"文件无法作为 Excel 工作簿打开（{str(exc)[:200]}），"
                              "请用 Excel 或 WPS 另存为 .xlsx 后重新提交") from None
        with source:
            yield source, package
    except PackageError as exc:
        raise _Unreadable(exc.rule, exc.message) from None
    finally:
        if package is not None:
            package.close()


class _Unreadable(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def _candidates(source, package: XlsxPackage | None) -> list[str]:
    """The sheets that may be forms: in an .xlsx, those whose XML or shared strings name a mark."""
    if package is None:
        return list(source.sheet_names)
    strings = b"".join(data for name, data in package.parts.items() if name.endswith("sharedStrings.xml"))
    shared = any(mark in strings for mark in _MARKS)
    names = []
    for name in source.sheet_names:
        data = package.parts.get(package.sheet_parts.get(name, ""), b"")
        if (shared and b't="s"' in data) or any(mark in data for mark in _MARKS):
            names.append(name)
    return names


def _grid(source, package: XlsxPackage | None, name: str) -> tuple[list, list, object] | str:
    """(grid, merged ranges, scan) of a sheet, or why it cannot be read (a message for sheet.too_large)."""
    scan = package.scan(name) if package is not None else None
    if scan is not None and scan.too_large:
        return "too_large"
    sheet = source.get_sheet_by_name(name)
    if sheet.total_height + 1 > limits.MAX_SHEET_ROWS or sheet.total_width + 1 > limits.MAX_SHEET_COLUMNS:
        return "too_large"
    return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or [], scan


# --- reading --------------------------------------------------------------------------------------

def read_forms(path: Path, folder_year: int) -> list[ProjectForm] | None:
    """Every project form of a workbook, read and typed in one opening; None when the input holds no form
    (a sheet carrying the title 项目支出绩效自评表, or both 项目名称 and 年度资金总额) or cannot be opened:
    it is another family's, whose reader says what is wrong with it. Never raises."""
    path = Path(path)
    if not path.is_file() or not_a_plain_input(path):  # the department family reports what it is
        return None
    file = shown_name(path.name)
    forms: list[ProjectForm] = []
    any_form = False
    try:
        with _opened(path) as (source, package):
            for name in _candidates(source, package):
                got = _grid(source, package, name)
                if isinstance(got, str):
                    form = ProjectForm(file, shown_name(name), len(forms) + 1, year=folder_year)
                    form.error("sheet.too_large", f"工作表过大（上限 {limits.MAX_SHEET_ROWS} 行 × "
                               f"{limits.MAX_SHEET_COLUMNS} 列），未读取；请删除表格以外的内容", form.sheet)
                    forms.append(form)
                    continue
                grid, merged, scan = got
                if not _is_form(grid):
                    continue
                any_form = True
                form = ProjectForm(file, shown_name(name), len(forms) + 1, year=folder_year)
                try:
                    written, filled = label_grid(form, form.sheet, grid, merged, scan)
                    _FormReader(form, written, filled, folder_year, merged).read()
                except Exception as exc:  # the safety net: one form's bug must not cost the others
                    log.debug("reading %s › %s failed", path, name, exc_info=True)
                    form.error("workbook.internal_error", f"读取该表时程序出错（{type(exc).__name__}：{str(exc)[:200]}），"
                               "请将文件转交数据管理员", form.sheet)
                forms.append(form)
    except Exception:  # _Unreadable among them: not read as forms, the department reader reports the file
        log.debug("reading %s as project forms failed", path, exc_info=True)
        return None
    return forms if any_form else None


def frames(forms: list[ProjectForm]) -> dict[str, pl.DataFrame]:
    """The forms' rows as the three raw tables, typed exactly as TABLES says (a value that does not fit raises)."""
    return {name: _frame(name, _columns(schema, [row for f in forms for row in f.rows.get(name, ())]), schema)
            for name, schema in TABLES.items()}


class _FormReader:
    """One sheet's blocks, read top to bottom into the form's rows and findings."""

    def __init__(self, form: ProjectForm, written: list[list[object]], filled: list[list[object]], year: int,
                 merged=()):
        self.form, self.written, self.grid, self.year = form, written, filled, year
        self.merged_to = {start: end[1] for start, end in merged}  # a merge's top-left -> its last column
        self.labels = [[_label(c) for c in row] for row in filled]
        self.sheet = form.sheet

    # where things are

    def find(self, wanted, start: int = 0, stop: int | None = None) -> tuple[int, int] | None:
        """The first cell (row, column) from row `start` whose label is in `wanted`."""
        for r in range(start, len(self.labels) if stop is None else min(stop, len(self.labels))):
            for c, text in enumerate(self.labels[r]):
                if text and text in wanted:
                    return r, c
        return None

    def right(self, r: int, c: int) -> tuple[int, object] | None:
        """The next filled cell right of (r, c) that is not the same label (a label merged across)."""
        row, own = self.grid[r], self.labels[r][c]
        for i in range(c + 1, len(row)):
            if not is_blank(row[i]) and self.labels[r][i] != own:
                return i, row[i]
        return None

    def after(self, r: int, c: int) -> int:
        """The column right of the cell (r, c), past its merge: where its value belongs when left blank."""
        return self.merged_to.get((r, c), c) + 1

    def ref(self, r: int, c: int) -> str:
        return cell_ref(r + 1, c)

    # the form

    def read(self) -> None:
        form = self.form
        funds_at = self.find({n for n, k in _FUNDS_COLUMNS.items() if k == "budget"})
        indicators_at = self._indicator_header()
        header_stop = min(x[0] for x in (funds_at, indicators_at, (len(self.grid), 0)) if x is not None)
        info: dict = {"year": self.year, "src_file": form.file, "src_sheet": self.sheet, "form_no": form.form_no}
        self._header(info, header_stop)
        form.info = info
        first_label = self.find(set(_HEADER), 0, header_stop)
        self._title(info, first_label[0] if first_label else header_stop)
        funds = self._funds(info, funds_at, indicators_at)
        self._goals(info, funds_at[0] if funds_at else 0)
        indicators, end = self._indicators(info, indicators_at)
        self._closing(info, end)
        for key in TABLES["project_forms"]:
            info.setdefault(key, None)
        form.rows = {"project_forms": [dict(info)], "project_fund_rows": funds, "project_indicators": indicators}

    def _source(self) -> dict:
        return {"year": self.year, "project_key": self.form.project_key, "src_file": self.form.file,
                "src_sheet": self.sheet}

    def _header(self, info: dict, stop: int) -> None:
        form, found = self.form, {}
        for r in range(stop):
            for c, text in enumerate(self.labels[r]):
                key = _HEADER.get(text)
                inline = None
                if key is None and ":" in text:  # 项目名称：… in one cell
                    head, _, rest = text.partition(":")
                    key, inline = _HEADER.get(head), rest
                if key is None or key in found:
                    continue
                if inline:
                    found[key] = (self.ref(r, c), re.split("[:：]", normalize_text(self.grid[r][c]), maxsplit=1)[1].strip())
                    continue
                nxt = self.right(r, c)
                if nxt is not None and self.labels[r][nxt[0]] in _HEADER:
                    nxt = None  # the next cell is another label: this one was left blank
                value = None if nxt is None else nxt[1]
                if isinstance(value, CellError):
                    form.error(value.rule, value.message, self.sheet, self.ref(r, nxt[0]), value)
                    value = None
                found[key] = (self.ref(r, nxt[0] if nxt else self.after(r, c)), normalize_text(value) if value is not None else "")
        for key, (where, text) in found.items():
            form.cells[key] = where
            info[key] = text or None
        unit = info.get("unit_name")
        if unit and (m := _UNIT_CODE.match(unit)):  # 219001-池州市…: the unit's code written as a prefix
            info["unit_name"] = m["name"].strip()
            info.setdefault("unit_code", None)
            info["unit_code"] = info["unit_code"] or m["code"]
        if info.get("project_code"):
            info["project_code"] = compact(info["project_code"])
        form.project_key = identity(info.get("project_code"), info.get("unit_name"), info.get("project"))
        info["project_key"] = form.project_key
        if not info.get("project"):
            form.error("project.name_missing", "缺少“项目名称”：请在表头填写项目名称", self.sheet, form.cells.get("project"))
        if not info.get("unit_name") and not info.get("project_code"):
            form.error("project.unit_missing", "缺少“实施单位”（且未填写项目编码），无法确定是哪个单位的项目；请填写实施单位",
                       self.sheet, form.cells.get("unit_name"))
        if not info.get("dept_name"):
            form.warn("project.dept_missing", "缺少“主管部门”：请填写项目的主管部门", self.sheet, form.cells.get("dept_name"))

    def _title(self, info: dict, stop: int) -> None:
        form = self.form
        for r in range(stop):
            for c, value in enumerate(self.written[r]):
                if isinstance(value, str) and (m := _YEAR.search(compact(value))) and not _HEADER.get(self.labels[r][c]):
                    info["title_year"] = int(m[1])
                    form.cells["title_year"] = self.ref(r, c)
                    if int(m[1]) != self.year:
                        form.error("project.title_year_mismatch",
                                   f"表头年度 {m[1]} 与所在文件夹的年度 {self.year} 不一致：请确认是否放错了年度，或改正表头年度",
                                   self.sheet, self.ref(r, c), value)
                    return
        form.warn("project.title_year_missing", f"表头未写年度（如“（{self.year}年度）”），按所在文件夹的年度 {self.year} 读取",
                  self.sheet, "A1")

    # funds

    def _funds(self, info: dict, at: tuple[int, int] | None, indicators_at) -> list[dict]:
        form = self.form
        if at is None:
            form.error("project.funds_missing", "找不到项目资金表（全年预算数、全年执行数等列）：请按自评表格式填写", self.sheet)
            return []
        h = at[0]
        columns = {}
        for c, text in enumerate(self.labels[h]):
            key = _FUNDS_COLUMNS.get(text)
            if key and key not in columns:
                columns[key] = c
        for key in ("budget", "spent"):
            if key not in columns:
                form.error("project.funds_column_missing",
                           f"项目资金表缺少“{L.FUNDS_COLUMNS[key][0]}”列", self.sheet, self.ref(h, at[1]))
                return []
        scale, unit = self._money_unit(h)
        info["money_unit"] = unit
        first = min(columns.values())
        goals = self.find(_GOALS_LABEL | set(_GOALS), h + 1)
        stop = min(x[0] for x in (goals, indicators_at, (len(self.grid), 0)) if x is not None)
        rows, seen = [], set()
        for r in range(h + 1, stop):
            written = self.written[r]
            if all(is_blank(v) for v in written[first:]) and all(is_blank(v) for v in written[:first]):
                continue
            source = label = None
            for c in range(first):
                text = self.labels[r][c]
                key = _FUNDS_ROWS.get(text.removeprefix("其中").lstrip(":")) if text else None
                if key:
                    source, label = key, normalize_text(self.grid[r][c])
            cells = {k: self.grid[r][c] for k, c in columns.items()}
            if source is None or source in seen:
                if any(not _na(v) for v in cells.values()):
                    shown = "、".join(normalize_text(v) for v in self.grid[r][:first] if not is_blank(v)) or "（无）"
                    reason = f"项目资金表中无法识别的行“{shown}”，未读取：资金来源应为年度资金总额、当年财政拨款、上年结转资金或其他资金"
                    form.warn("project.funds_row_unknown", reason, self.sheet, self.ref(r, 0))
                    form.quarantine(self.sheet, r + 1, cells, reason, "project.funds_row_unknown")
                continue
            seen.add(source)
            row = self._fund_row(r, source, label, cells, columns, scale)
            if row is not None:
                rows.append(row)
        if L.FUNDS_TOTAL not in seen:
            form.error("project.funds_total_missing", "项目资金表缺少“年度资金总额”行", self.sheet, self.ref(h, at[1]))
        return rows

    def _money_unit(self, h: int) -> tuple[Decimal, str]:
        """元 per written unit: from 项目资金（万元）, a column header (全年预算数（元）) or a （单位：万元） above."""
        texts = [v for c, v in enumerate(self.grid[h]) if isinstance(v, str)]
        texts += [v for r in range(max(0, h - 2), h) for v in self.grid[r] if isinstance(v, str) and "单位" in v
                  and not _HEADER.get(_label(v))]
        scale = next((s for s in map(unit_scale, texts) if s), None)
        if scale is None:
            self.form.warn("project.money_unit_missing", "项目资金未写明单位（万元或元），按万元读取；请在“项目资金”后注明单位",
                           self.sheet, self.ref(h, 0))
            scale = WAN
        return scale, _MONEY_UNITS[scale]

    def _fund_row(self, r, source, label, cells, columns, scale) -> dict | None:
        form = self.form
        refs = {k: self.ref(r, c) for k, c in columns.items()}
        typed = {**self._source(), "src_row": r + 1, "source": source, "label": label,
                 "budget_cell": refs.get("budget"), "spent_cell": refs.get("spent"),
                 "rate_cell": refs.get("rate"), "score_cell": refs.get("score")}
        what = {k: f"{label}的{L.FUNDS_COLUMNS[k][0]}" for k in columns}
        try:
            for key, column in (("initial", "initial_budget_yuan"), ("budget", "budget_yuan"), ("spent", "spent_yuan")):
                value = cells.get(key)
                if _na(value):
                    if source == L.FUNDS_TOTAL and key != "initial":
                        raise _RowError("project.amount_missing", f"{what[key]}未填写：请填写金额", key, value)
                    typed[column] = None
                    continue
                yuan, exact = self._number("amount", value, what[key], key, scale)
                if not exact:
                    form.warn("project.amount_sub_cent", f"{what[key]}精度超过“分”，已按四舍五入保留到分",
                              self.sheet, refs[key], value)
                typed[column] = yuan
            for key, column, kind in (("weight", "weight", "number"), ("rate", "reported_rate", "rate"),
                                      ("score", "reported_score", "number")):
                value = cells.get(key)
                typed[column] = None if _na(value) else self._number(kind, value, what[key], key, None)
        except _RowError as exc:
            form.error(exc.rule, exc.message, self.sheet, refs.get(exc.key), exc.value)
            form.quarantine(self.sheet, r + 1, cells, exc.message, exc.rule)
            return None
        return typed

    def _number(self, kind: str, value, what: str, key: str, scale):
        """A cell typed as `kind` within its bounds (the department reader's typing), or a _RowError
        whose rule is the project's (project.amount_unparseable…)."""
        if isinstance(value, CellError):
            raise _RowError(value.rule, f"{what}：{value.message}", key, value)
        try:
            return _checked_number(kind, scale, value, what, key)
        except _RowError as exc:
            reason = {"number.not_a_number": "unparseable", "number.missing": "unparseable"}.get(
                exc.rule, exc.rule.rpartition(".")[2])
            message = exc.message + ("：请填写数字" if reason == "unparseable" else "")
            raise _RowError(f"project.{_KIND_WORDS[kind]}_{reason}", message, key, value) from None

    # goals

    def _goals(self, info: dict, start: int) -> None:
        for key in L.GOALS:
            at = self.find({n for n, k in _GOALS.items() if k == key}, start)
            if at is None:
                continue
            r, c = at
            nxt = self.right(r, c)
            if nxt is not None and self.labels[r][nxt[0]] in _GOALS:
                nxt = None
            if nxt is None and r + 1 < len(self.grid) and not is_blank(self.grid[r + 1][c]) \
                    and self.labels[r + 1][c] not in _INDICATOR_COLUMNS:
                nxt = (c, self.grid[r + 1][c])
                r += 1
            if nxt is not None:
                info[key] = normalize_text(nxt[1])
                self.form.cells[key] = self.ref(r, nxt[0])
        if "goal_target" not in info and (at := self.find(_GOALS_LABEL, start)) and (nxt := self.right(*at)):
            info["goal_target"] = normalize_text(nxt[1])  # one text for the whole goal
            self.form.cells["goal_target"] = self.ref(at[0], nxt[0])

    # indicators

    def _indicator_header(self) -> tuple[int, int] | None:
        for r, row in enumerate(self.labels):
            keys = {_INDICATOR_COLUMNS.get(t) for t in row}
            if "level1" in keys and "indicator" in keys:
                return r, row.index(next(t for t in row if _INDICATOR_COLUMNS.get(t) == "level1"))
        return None

    def _indicators(self, info: dict, at: tuple[int, int] | None) -> tuple[list[dict], int]:
        form = self.form
        if at is None:
            form.error("project.indicators_missing", "找不到绩效指标表（一级指标、二级指标、三级指标等列）：请按自评表格式填写",
                       self.sheet)
            return [], len(self.grid)
        h = at[0]
        columns: dict[str, int] = {}
        for c, text in enumerate(self.labels[h]):
            key = _INDICATOR_COLUMNS.get(text)
            if key and key not in columns:
                columns[key] = c
        end = self._indicators_end(h)
        if missing := [k for k in _REQUIRED_COLUMNS if k not in columns]:
            names = "、".join(L.INDICATOR_COLUMNS[k][0] for k in missing)
            reason = f"绩效指标表缺少必需的列：{names}，整张指标表未读取"
            form.error("project.indicator_column_missing", reason, self.sheet, self.ref(h, at[1]))
            for r in range(h + 1, end):
                cells = {cell_ref(1, c)[:-1]: v for c, v in enumerate(self.written[r]) if not is_blank(v)}
                if cells:
                    form.quarantine(self.sheet, r + 1, cells, reason, "project.indicator_column_missing")
            return [], end
        self._total(info, end, columns)
        level1s = self._level1_names(h, end, columns["level1"])
        data_columns = [c for k, c in columns.items() if k not in ("level1", "level2")]
        rows: list[dict] = []
        level2_group: list[dict] = []
        level2 = None
        filler: list[str] = []
        for r in range(h + 1, end):
            written = self.written[r]
            if all(is_blank(written[c]) for c in columns.values()):
                continue
            cells = {k: self.grid[r][c] for k, c in columns.items()}
            own2 = written[columns["level2"]]
            if not is_blank(own2):
                text = "".join(normalize_text(own2).split())
                if text in ("指标",) and level2 and not level2.endswith("指标"):
                    level2 += text  # 经济效益 / 指标 written over two rows
                    for row in level2_group:
                        row["level2"] = level2
                else:
                    level2, level2_group = text, []
            elif level2 is None and not is_blank(cells["level2"]):
                level2 = "".join(normalize_text(cells["level2"]).split())
            name = _PREFIX.sub("", normalize_text(cells["indicator"]))
            rest = [written[c] for k, c in columns.items() if k not in ("level1", "level2", "indicator")]
            if all(is_blank(v) or compact(v) in _FILLER for v in rest) and (not name or compact(name) in _FILLER):
                filler.append(self.ref(r, columns["indicator"]))
                continue
            if all(is_blank(written[c]) for c in data_columns):
                continue  # a heading only (a 一级 or 二级 written above its rows)
            row = self._indicator_row(r, cells, columns, name, level2, level1s)
            if row is not None:
                rows.append(row)
                level2_group.append(row)
        if filler:  # one note per form: a template's filler rows are one thing to tidy, not one per row
            form.warn("project.filler_row", f"模板占位行 {len(filler)} 行（只有“指标N：”或“……”，没有内容），已跳过；"
                      "请删除这些行", self.sheet, filler[0], "、".join(filler))
        for i, row in enumerate(rows, start=1):
            row["indicator_no"] = i
        return rows, end

    def _indicators_end(self, h: int) -> int:
        for r in range(h + 1, len(self.labels)):
            for text in self.labels[r]:
                if text and (text in _TOTAL or text in _CLOSING or text.startswith(_NOTE_STARTS)):
                    return r
        return len(self.labels)

    def _level1_names(self, h: int, end: int, c: int) -> dict[int, tuple[str, Decimal | None]]:
        """Each row's 一级 name and weight: from 产出指标（50分）, or from the footnote when the cell gives only
        （50分） (by its weight where the footnote names one level with it, else by its place)."""
        note: list[tuple[str, Decimal]] | None = None  # read only when a 一级 cell needs it
        out, current, place = {}, ("", None), -1
        for r in range(h + 1, end):
            written, value = self.written[r][c], self.grid[r][c]
            if not is_blank(written) or (current == ("", None) and not is_blank(value)):
                place += 1
                text = compact(value)
                m = _LEVEL1.match(text)
                name, weight = (m["name"], Decimal(m["weight"])) if m else (text, None)
                name = L.LEVEL1_WORDS.get(name, name)
                if note is None and (not name or weight is None):
                    note = self._footnote_levels()
                if not name and weight is not None:
                    same = [n for n, w in note if w == weight]
                    name = same[0] if len(same) == 1 else (note[place][0] if place < len(note) else "")
                if weight is None:
                    weight = next((w for n, w in note if n == name), None)
                current = (name, weight)
            out[r] = current
        return out

    def _footnote_levels(self) -> list[tuple[str, Decimal]]:
        for labels, row in zip(self.labels, self.grid, strict=True):
            for text, value in zip(labels, row, strict=True):
                if text.startswith(_NOTE_STARTS) and isinstance(value, str):
                    found = [(L.LEVEL1_WORDS[w], Decimal(n)) for w, n in _NOTE_LEVEL1.findall(compact(value))]
                    if found:
                        return found
        return list(L.DEFAULT_LEVEL1)

    def _indicator_row(self, r, cells, columns, name, level2, level1s) -> dict | None:
        form = self.form
        refs = {k: self.ref(r, c) for k, c in columns.items()}
        level1, level1_weight = level1s.get(r, ("", None))
        typed = {**self._source(), "src_row": r + 1, "level1": level1, "level1_weight": level1_weight,
                 "level2": level2 or "", "indicator": name,
                 "nature": _text(cells.get("nature")), "measure_unit": _text(cells.get("measure_unit")),
                 "deviation": _text(cells.get("deviation")),
                 "actual_cell": refs["actual"], "weight_cell": refs["weight"], "score_cell": refs["score"]}
        try:
            if not level1:
                raise _RowError("project.level1_missing", "该行没有一级指标：请填写一级指标（如“产出指标”）", "level1",
                                cells["level1"])
            if not name:
                form.warn("project.indicator_unnamed", "三级指标没有名称：请填写指标名称", self.sheet, refs["indicator"])
            target, actual = (self._value(key, what, cells, refs) for key, what in
                              (("target", "年度指标值"), ("actual", "实际完成值")))
            if target is not None and actual is not None and not units_compatible(target, actual):
                raise _RowError("project.indicator_unit_mismatch",
                                f"年度指标值单位“{target.unit or '无'}”与实际完成值单位“{actual.unit or '无'}”不一致",
                                "actual", cells["actual"])
            typed.update(
                target_text=target.text if target else "", target_value=target and target.number,
                target_unit=target and target.unit, target_comparator=target and target.comparator,
                direction=target.direction if target else "not_applicable",
                actual_text=actual.text if actual else "", actual_value=actual and actual.number,
                actual_unit=actual and actual.unit, actual_direction=actual.direction if actual else "not_applicable",
                actual_met=actual and actual.met)
            for key, column, what in (("weight", "weight", "分值"), ("score", "reported_score", "得分")):
                value = cells[key]
                typed[column] = None if _na(value) else self._number("number", value, f"指标{what}", key, None)
        except _RowError as exc:
            form.error(exc.rule, exc.message, self.sheet, refs.get(exc.key), exc.value)
            form.quarantine(self.sheet, r + 1, cells, exc.message, exc.rule)
            return None
        return typed

    def _value(self, key: str, what: str, cells: dict, refs: dict) -> IndicatorValue | None:
        """年度指标值 or 实际完成值 read (values.py), with the 指标性质 and 度量单位 columns where printed;
        None for a blank cell (a warning: the indicator cannot be scored)."""
        value = cells[key]
        if isinstance(value, CellError):
            raise _RowError(value.rule, f"{what}：{value.message}", key, value)
        if is_blank(value):
            self.form.warn("project.indicator_value_missing", f"{what}未填写：该指标无法评分，请补填",
                           self.sheet, refs[key])
            return None
        try:
            parsed = parse_indicator_value(value)
        except ValueParseError as exc:
            raise _RowError(f"project.{exc.rule.replace('.', '_')}", f"{what}无法识别：{exc.message}", key, value) from None
        if parsed.number is None:
            return replace(parsed, text=_shown_value(value))
        if abs(parsed.number) >= limits.MAX_VALUE:
            raise _RowError("project.indicator_value_too_large", f"{what}数值过大，请检查是否多填了位数", key, value)
        _not_too_small(parsed.number, "value", what, key, value)
        unit, comparator, direction = parsed.unit, parsed.comparator, parsed.direction
        if not _na(measure := cells.get("measure_unit")):
            if unit and compact(unit) != compact(measure):
                raise _RowError("project.indicator_unit_mismatch",
                                f"{what}的单位“{unit}”与度量单位“{normalize_text(measure)}”不一致", key, value)
            unit = unit or compact(measure)
        if key == "target" and comparator is None and not _na(nature := cells.get("nature")) \
                and compact(nature) in _NATURES:
            comparator = _NATURES[compact(nature)]
            direction = "lower" if comparator in ("<=", "<") else "higher"
        return replace(parsed, text=_shown_value(value), unit=unit, comparator=comparator, direction=direction)

    def _total(self, info: dict, end: int, columns: dict[str, int]) -> None:
        if end >= len(self.labels) or not any(t in _TOTAL for t in self.labels[end]):
            self.form.warn("project.total_missing", "找不到“总分”行：请在绩效指标表下填写总分", self.sheet)
            return
        for key, column, cell in (("weight", "total_weight", None), ("score", "reported_total", "total_cell")):
            value = self.grid[end][columns[key]]
            where = self.ref(end, columns[key])
            if cell:
                info[cell] = where
            self.form.cells[column] = where
            try:
                info[column] = None if _na(value) else self._number("number", value, f"总分行的{L.INDICATOR_COLUMNS[key][0]}",
                                                                    key, None)
            except _RowError as exc:
                self.form.warn(exc.rule, exc.message + "（未用于核对）", self.sheet, where, value)
                info[column] = None

    # closing

    def _closing(self, info: dict, start: int) -> None:
        for r in range(start, len(self.labels)):
            for c, text in enumerate(self.labels[r]):
                key = _CLOSING.get(text)
                if key and key not in info:
                    nxt = self.right(r, c)
                    info[key] = normalize_text(nxt[1]) if nxt else None
                    self.form.cells[key] = self.ref(r, nxt[0] if nxt else self.after(r, c))
                elif text.startswith(_NOTE_STARTS) and "remarks" not in info:
                    info["remarks"] = normalize_text(self.grid[r][c])
                    self.form.cells["remarks"] = self.ref(r, c)


def _text(value: object) -> str | None:
    return None if is_blank(value) else normalize_text(value)
