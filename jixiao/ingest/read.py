"""Reading a department's workbook into located tables.

A department's sheet is a grid a person laid out: a title above, a header
somewhere, merged cells, a 合计 row, notes below, a header repeated where the
table breaks across pages. This module finds the table in that grid and keeps
every cell's position, so any later finding can point at the cell a clerk has
to fix. Values are not interpreted here, except that a cell which cannot hold
a value at all (an Excel error, a formula never computed, a pasted document)
becomes a CellError the extraction reports.

Before calamine opens an .xlsx, jixiao.ingest.xlsx_package checks the file and scans
the sheets it will read (see there for why); a file that fails becomes one
finding for the whole file, and the run goes on with the other departments.
"""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from itertools import filterfalse
from pathlib import Path

import python_calamine

from jixiao.domain import Finding, cell_ref
from jixiao.ingest import limits
from jixiao.ingest.numbers import (
    EXCEL_ERRORS,
    WAN,
    compact,
    is_blank,
    normalize_text,
    short_text_cache,
    unit_scale,
)
from jixiao.ingest.safe_text import CONTROL, name_problem, shown_controls, shown_name, without_controls
from jixiao.ingest.sheets import (
    NOTE_LINE,
    NOTE_PREFIXES,
    NOTE_WORDS,
    SIGNATURE_WORDS,
    SUBTOTAL_LABELS,
    TOTAL_LABELS,
    Column,
    SheetSet,
    SheetSpec,
    strip_unit_suffix,
    without_unit,
)
from jixiao.ingest.xlsx_package import (
    PackageError,
    SheetScan,
    XlsxPackage,
    is_encrypted_ooxml,
    sniff,
)

HEADER_SEARCH_ROWS = 30
# Kept importable under their old names; the bounds themselves live in jixiao.ingest.limits.
MAX_SHEET_ROWS = limits.MAX_SHEET_ROWS
MAX_SHEET_COLUMNS = limits.MAX_SHEET_COLUMNS

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
# Spreadsheets in formats the contract does not take: said as such, with what to do.
_OTHER_SPREADSHEETS = {".ods": "OpenDocument 表格（.ods）", ".xlsb": "二进制格式的工作簿（.xlsb）",
                       ".et": "WPS 表格格式（.et）", ".numbers": "Numbers 表格（.numbers）"}
# Files an operating system or an editor leaves in any folder; never a department's input.
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})
_CONTINUED = ("续表", "(续", "续:", "续)")
# A label merged across at least this many columns, alone on its row, is a note, not data.
_NOTE_MERGE_WIDTH = 3

Cells = dict[str, object]


@dataclass(frozen=True)
class CellError:
    """A cell that holds no usable value; str() is what a finding quotes as found."""

    rule: str
    message: str
    shown: str

    def __str__(self) -> str:
        return self.shown


@dataclass
class Table:
    spec: SheetSpec
    sheet: str
    header_row: int  # 1-based, as Excel shows it
    columns: dict[str, int]  # column key -> 0-based column index
    scales: dict[str, Decimal]  # amount column key -> 元 per written unit
    rows: list[tuple[int, Cells]] = field(default_factory=list)
    totals: list[tuple[int, Cells]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    unusable: frozenset[CellError] = frozenset()  # the CellErrors among its cells, if any

    def cell(self, row: int, key: str) -> str:
        """`key`'s cell on `row`, A1 style (cell_ref, with each column's letters spelled once)."""
        return f"{self._letters[key]}{row}"

    @cached_property
    def _letters(self) -> dict[str, str]:
        return {key: column_letters(index) for key, index in self.columns.items()}


@dataclass
class Workbook:
    path: Path
    sheets: SheetSet  # the form family's sheets
    tables: dict[str, Table] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    # Rows of a recognised sheet whose table could not be found: quarantined as written.
    unread: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        if problem := name_problem(self.path.name):
            self.warn("file.name_unreadable", problem)

    @property
    def file(self) -> str:
        return shown_name(self.path.name)

    def error(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value=None) -> None:
        self.findings.append(Finding("error", rule, message, self.file, _sheet(sheet), cell, _shown(value)))

    def warn(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value=None) -> None:
        self.findings.append(Finding("warning", rule, message, self.file, _sheet(sheet), cell, _shown(value)))


def _sheet(name: str | None) -> str | None:
    return None if name is None else shown_name(name)


def read_workbook(path: Path, sheets: SheetSet) -> Workbook:
    """An input of a form family with these `sheets`: an .xlsx (or .xls) workbook, or a folder of CSV files
    named after the sheets."""
    path = Path(path)
    if why := not_a_plain_input(path):
        book = Workbook(path, sheets)
        book.error("input.not_a_plain_file", why)
        return book
    if path.is_dir():
        from jixiao.ingest.csv_input import read_csv_folder  # csv_input builds on this module

        return read_csv_folder(path, sheets)
    book = Workbook(path, sheets)
    if path.suffix.lower() in _OTHER_SPREADSHEETS:
        book.error("workbook.format_unsupported",
                   f"这是{_OTHER_SPREADSHEETS[path.suffix.lower()]}，请在 Excel 或 WPS 中另存为 .xlsx 后提交")
        return book
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        kind = "CSV 文件（CSV 需放在以部门命名的文件夹中，每个工作表一个文件）" if path.suffix.lower() == ".csv" else (
            f"“{path.suffix or '无扩展名'}”文件")
        book.error("workbook.not_a_workbook", f"不是 Excel 工作簿，而是{kind}；请提交 .xlsx 工作簿")
        return book
    size = path.stat().st_size
    if size > limits.MAX_FILE_BYTES:
        book.error("workbook.too_large", f"文件过大（{size / 2**20:.0f} MB，上限 {limits.MAX_FILE_BYTES // 2**20} MB），未读取")
        return book
    kind = sniff(path)
    if kind == "empty":
        book.error("workbook.empty_file", "文件是空的（0 字节），可能保存或复制时出错，请重新提交")
        return book
    if kind not in ("zip", "ole"):
        book.error("workbook.not_a_workbook", f"文件不是 Excel 工作簿（看起来是{kind}），请提交 .xlsx 工作簿")
        return book
    package = None
    try:
        if kind == "zip":
            package = XlsxPackage(path)
        _read_book(book, package)
    except PackageError as exc:
        book.error(exc.rule, exc.message)
    finally:
        if package is not None:
            package.close()
    return book


def _read_book(book: Workbook, package: XlsxPackage | None) -> None:
    if package is None and is_encrypted_ooxml(book.path):
        book.error("workbook.encrypted", "工作簿设置了打开密码（已加密），无法读取；请取消密码后重新提交")
        return
    try:
        with book.path.open("rb") as f:
            # from_filelike decides the format by content, not by the file's extension.
            source = python_calamine.CalamineWorkbook.from_filelike(f)
    except python_calamine.PasswordError:
        book.error("workbook.encrypted", "工作簿设置了打开密码（已加密），无法读取；请取消密码后重新提交")
        return
    except Exception as exc:  # calamine raises several types for broken files; all mean the same to a clerk
        book.error("workbook.unreadable", f"文件无法作为 Excel 工作簿打开（{_reason(exc)}），请用 Excel 或 WPS 另存为 .xlsx 后重新提交")
        return
    with source:
        hidden = {m.name for m in source.sheets_metadata if m.visible != python_calamine.SheetVisibleEnum.Visible}
        seen: dict[str, str] = {}
        for name in source.sheet_names:
            spec = book.sheets.spec_for(name)
            if spec is None:
                book.ignored_sheets.append(shown_name(name))
                continue
            if spec.key in seen:
                book.error("sheet.duplicate",
                           f"工作簿中有两个“{spec.name}”工作表（“{seen[spec.key]}”和“{name}”），无法确定以哪个为准，请删除多余的一个",
                           name)
                continue
            seen[spec.key] = name
            if name in hidden:
                book.warn("sheet.hidden", "该工作表是隐藏的，已照常读取；如不应提交，请删除该工作表", name)
            _read_sheet(book, source, package, spec, name)
        _check_required(book, source, package, seen)


def _read_sheet(book: Workbook, source, package: XlsxPackage | None, spec: SheetSpec, name: str) -> None:
    scan = package.scan(name) if package is not None else None
    if scan is not None and scan.too_large:
        book.error("sheet.too_large", _too_large(scan.rows, scan.columns), name)
        return
    try:
        sheet = source.get_sheet_by_name(name)
        rows, columns = sheet.total_height + 1, sheet.total_width + 1
        if rows > limits.MAX_SHEET_ROWS or columns > limits.MAX_SHEET_COLUMNS:
            book.error("sheet.too_large", _too_large(rows, columns), name)
            return
        grid = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
    except Exception as exc:  # a damaged sheet part: the clerk can only re-save the file
        book.error("sheet.unreadable", f"工作表无法读取（{_reason(exc)}），请用 Excel 或 WPS 重新保存后提交", name)
        return
    _apply_scan(grid, scan)
    table = read_grid(book, spec, name, grid, merged, scan.hidden_rows if scan else ())
    if table is not None:
        book.tables[spec.key] = table


def _check_required(book: Workbook, source, package: XlsxPackage | None, seen: dict[str, str]) -> None:
    missing = [s for s in book.sheets.specs if s.required and s.key not in seen]
    if not missing:
        return
    if not seen and _all_empty(source, package):
        book.error("workbook.empty", "工作簿是空的：没有任何填写内容，请填写后重新提交")
        return
    present = "、".join(source.sheet_names) or "无"
    for spec in missing:
        book.error("sheet.missing",
                   f"缺少必需的工作表“{spec.name}”（也可命名为：{'、'.join(spec.aliases)}）；工作簿中的工作表为：{present}")


def _all_empty(source, package: XlsxPackage | None) -> bool:
    for name in source.sheet_names:
        scan = package.scan(name) if package is not None else None
        if scan is not None:
            if scan.rows:
                return False
            continue
        try:
            grid = source.get_sheet_by_name(name).to_python(skip_empty_area=True)
        except Exception:
            return False
        if any(not is_blank(c) for row in grid for c in row):
            return False
    return True


def _apply_scan(grid: list[list[object]], scan: SheetScan | None) -> None:
    """calamine reads an error cell and a formula without a cached value as ''; put back what they are."""
    if scan is None:
        return
    for r, c in [*scan.errors, *scan.uncomputed]:  # calamine's grid ends at its last cell with a value
        while len(grid) <= r:
            grid.append([])
        if len(grid[r]) <= c:
            grid[r].extend([""] * (c + 1 - len(grid[r])))
    for (r, c), code in scan.errors.items():
        grid[r][c] = CellError("cell.excel_error", f"单元格是 Excel 错误值 {code}，请检查公式或改为填写数值", code)
    for (r, c), formula in scan.uncomputed.items():
        if is_blank(grid[r][c]):
            grid[r][c] = CellError(
                "cell.formula_no_value",
                "单元格是公式，但文件中没有计算结果（可能由不计算公式的软件生成）；请在 Excel 或 WPS 中打开、重新计算并保存",
                formula)


def read_grid(book: Workbook, spec: SheetSpec, sheet: str, grid: list[list[object]],
              merged=(), hidden_rows=()) -> Table | None:
    """Find `spec`'s table in a sheet's cells (rows of values, as calamine or the CSV reader give them)."""
    if len(grid) > limits.MAX_SHEET_ROWS or any(len(row) > limits.MAX_SHEET_COLUMNS for row in grid):
        book.error("sheet.too_large", _too_large(len(grid), max(map(len, grid), default=0)), sheet)
        return None
    width = max(map(len, grid), default=0)
    # Most questions below are about a cell's text, and a sheet repeats its texts: they are asked
    # once per distinct value rather than cell by cell (cells are hashable: calamine and the CSV
    # reader give text, numbers, dates and times, and a CellError is frozen).
    values = set().union(*grid)
    texts = [v for v in values if isinstance(v, str)]
    if dirty := {t for t in texts if CONTROL.search(t)}:
        grid = _without_controls(book, sheet, grid, dirty)
        values = set().union(*grid)
        texts = [v for v in values if isinstance(v, str)]
    # Only text with '#' (as every Excel error has) or too long may be no value: the others skip _checked.
    checked = {t: _checked(t) for t in texts if "#" in t or len(t) > limits.MAX_CELL_CHARS}
    unusable = {t: e for t, e in checked.items() if isinstance(e, CellError)}
    pad = [""]
    # Rows already `width` long (calamine's all are) are used as they are: nothing below writes to them.
    original = [[unusable.get(c, c) for c in row] + pad * (width - len(row)) for row in grid] if unusable else \
        [row if len(row) == width else row + pad * (width - len(row)) for row in grid]
    if unusable:
        values = {unusable.get(v, v) for v in values}
        texts = [t for t in texts if t not in unusable]
    blank = {t for t in texts if not t.strip()} | {"", None}  # what is_blank says ("": the rows' padding)
    filled_grid, wide_notes = _fill_merged(original, merged, blank)

    found = _find_header(filled_grid, spec)
    if isinstance(found, _NoHeader):
        rule, message = found.finding(spec)
        book.error(rule, message, sheet, cell_ref(found.row + 1, 0) if found.row is not None else None)
        _quarantine_sheet(book, sheet, original, rule)
        return None
    r, columns = found
    titles = {compact(c) for row_ in original[:r] for c in row_ if not is_blank(c)}
    title_scale = next((s for s in (unit_scale(t) for t in titles) if s), None)
    header = filled_grid[r]
    scales = {
        c.key: unit_scale(str(header[columns[c.key]])) or title_scale or WAN
        for c in spec.columns if c.kind == "amount" and c.key in columns
    }
    table = Table(spec, sheet, r + 1, columns, scales, unusable=frozenset(v for v in values if isinstance(v, CellError)))
    hierarchy = [c.key for c in spec.columns if c.hierarchical and c.key in columns]
    text_columns = [columns[c.key] for c in spec.columns if c.kind == "text" and c.key in columns]
    picked = list(columns.items())  # every row is `width` long, and so was the header these came from
    extra = {i: (strip_unit_suffix(str(h)) if not is_blank(h) else "") for i, h in enumerate(header)
             if i not in columns.values()}
    # A heading row leaves every other column blank (_is_heading): it has at most `heading_width`
    # filled cells, and most rows are told by their count alone.
    others = [i for k, i in columns.items() if k not in hierarchy]
    heading_width = len(hierarchy) + len(extra)
    # A row's filled cells; most rows have no blank cell, and are their own (nothing writes to them).
    filled_rows = [row if blank.isdisjoint(row) else list(filterfalse(blank.__contains__, row)) for row in original]

    # The values whose compact text may be a label this reader looks for: a header's, 合计, 小计, 注….
    initials = _LABEL_INITIALS | spec.header_initials
    compacted = {t: compact(t) for t in texts if _may_start(t, initials)}  # a number's text is no label
    compacted.update((e, compact(e)) for e in table.unusable)  # a CellError shows the text found
    header_texts = {v for v, text in compacted.items() if isinstance(v, str) and without_unit(text) in spec.header_names}
    totals = {v for v, text in compacted.items() if text in TOTAL_LABELS}
    subtotals = {v for v, text in compacted.items() if text in SUBTOTAL_LABELS}
    note_lines = {v for v, text in compacted.items() if NOTE_LINE.match(text)}
    note_starts = {v for v, text in compacted.items() if text.startswith(NOTE_PREFIXES)}

    # Rows that are not data: a header, or a title (续表), repeated where the table breaks across
    # pages. A repeated header holds a text some column answers to; most rows hold none.
    repeated = set()
    for i in range(r + 1, len(filled_grid)):
        filled = filled_rows[i]
        if len(filled) == 1:
            text = compact(filled[0])
            if text and (text in titles or text.startswith(_CONTINUED) or "(续" in text):
                repeated.add(i)
                continue
        # Without required columns any row would match (match_header's all() of nothing): ask it then.
        if filled and (not spec.required_names or not header_texts.isdisjoint(filled_grid[i])) \
                and match_header(filled_grid[i], spec) is not None:
            repeated.add(i)

    last: Cells = {}
    seen_total = False
    hidden_data: list[int] = []
    for r in range(table.header_row, len(filled_grid)):
        filled = filled_rows[r]
        if not filled:
            continue  # blank, or only the continuation of a merge from above
        if r in repeated:
            continue
        row, written = filled_grid[r], original[r]
        if totals or subtotals:
            labels = [written[i] for i in text_columns]
            labels.append(filled[0])
            if not totals.isdisjoint(labels):
                seen_total = True
                table.totals.append((r + 1, {key: row[idx] for key, idx in picked}))
                continue
            if not subtotals.isdisjoint(labels):
                table.notes.append((r + 1, _joined(filled)))  # a task's 小计 restates its projects
                continue
        if filled[0] in note_lines or (len(filled) == 1 and (
                filled[0] in note_starts or seen_total or (r, _first_col(written)) in wide_notes)):
            table.notes.append((r + 1, _joined(filled)))
            continue
        cells = {key: row[idx] for key, idx in picked}
        if hierarchy and len(filled) <= heading_width and all(written[i] in blank for i in others) and \
                _is_heading(original, r, columns, hierarchy, repeated, filled_rows):
            last = {**last, **{k: cells[k] for k in hierarchy if not is_blank(cells[k])}}
            continue  # its labels apply to the rows below it, which leave them blank
        for key in hierarchy:
            if key in last and cells[key] in blank:
                cells[key] = last[key]
        last = cells
        table.rows.append((r + 1, cells))
        if r in hidden_rows:
            hidden_data.append(r + 1)
        for i, label in extra.items():
            value = written[i]
            if value in blank:
                continue
            if isinstance(value, CellError):  # "#DIV/0!" is no one's note: the cell is for the clerk to fix
                book.warn(value.rule, f"“{label or column_letters(i)}”列（表格以外的列，不参与计算）：{value.message}",
                          sheet, cell_ref(r + 1, i), value.shown)
                continue
            table.notes.append((r + 1, f"{label or column_letters(i)}：{normalize_text(value)}"))
    if hidden_data:
        shown = "、".join(map(str, hidden_data[:10])) + ("等" if len(hidden_data) > 10 else "")
        book.warn("sheet.hidden_rows", f"第 {shown} 行是隐藏行，已照常读取；不需要的行请删除而不是隐藏", sheet)
    return table


# The first character of every label read_grid compares a compact text with (all CJK
# ideographs): a text that plainly starts with another character is none of them (_may_start).
_LABEL_INITIALS = frozenset(word[0] for word in (*TOTAL_LABELS, *SUBTOTAL_LABELS, *NOTE_PREFIXES, *NOTE_WORDS,
                                                 *SIGNATURE_WORDS))


def _may_start(text: str, initials: frozenset[str]) -> bool:
    """Whether compact(text) may start with one of `initials` (CJK ideographs), told without compacting."""
    first = text.lstrip()[:1]
    if "\u4e00" <= first <= "\u9fff":  # a CJK ideograph: NFKC keeps it, and it composes with nothing
        return first in initials
    # Nothing; or before the CJK radicals (Latin, digits, punctuation, symbols…), or a full-width
    # form of ASCII: NFKC makes no CJK ideograph of it (tests/test_read_speedups.py asks every one).
    return not (first < "\u2e80" or "\uff01" <= first <= "\uff5e")


def _is_heading(grid: list[list[object]], r: int, columns: dict[str, int], hierarchy: list[str], skip: set[int],
                filled_rows: list[list[object]]) -> bool:
    """A row naming only a group (任务1：…, or 履职效能 and its 分值) above rows that leave it blank.

    Rows in `skip` are not data (a repeated header, a 续表 line): a page may break
    between a heading and its rows. `filled_rows[i]` are row i's filled cells."""
    if not hierarchy or any(not is_blank(grid[r][i]) for k, i in columns.items() if k not in hierarchy):
        return False
    named = next((columns[k] for k in hierarchy if not is_blank(grid[r][columns[k]])), None)
    if named is None:
        return False
    below = next((grid[i] for i in range(r + 1, len(grid)) if filled_rows[i] and i not in skip), None)
    return below is not None and is_blank(below[named])


def label_grid(reporter, sheet: str, grid: list[list[object]], merged=(),
               scan: SheetScan | None = None) -> tuple[list[list[object]], list[list[object]]]:
    """A sheet's cells for a reader that finds values beside their labels (the project form), as
    (written, filled): Excel errors and formulas without a value as CellErrors, control characters
    removed (each cell named in a warning to `reporter`, which has warn() as Workbook's), text that
    cannot be a value a CellError, every row as wide as the widest; `filled` has merged cells filled
    down their first column from their top-left cell, as read_grid fills them."""
    _apply_scan(grid, scan)
    values = set().union(*grid) if grid else set()
    if dirty := {v for v in values if isinstance(v, str) and CONTROL.search(v)}:
        grid = _without_controls(reporter, sheet, grid, dirty)
        values = set().union(*grid)
    width = max(map(len, grid), default=0)
    unusable = {v: e for v in values if isinstance(v, str) and ("#" in v or len(v) > limits.MAX_CELL_CHARS)
                and isinstance(e := _checked(v), CellError)}
    pad = [""]
    written = [[unusable.get(c, c) for c in row] + pad * (width - len(row)) if unusable or len(row) != width else row
               for row in grid]
    blank = {v for v in values if isinstance(v, str) and not v.strip()} | {"", None}
    filled, _ = _fill_merged(written, merged, blank)
    return written, filled


def _without_controls(book: Workbook, sheet: str, grid: list[list[object]], dirty: set[str]) -> list[list[object]]:
    """The grid with the control characters of its `dirty` texts removed, each such cell named in a
    warning: no page or document can hold them (XML forbids them), and they are never meant."""
    cleaned = []
    for r, row in enumerate(grid):
        if dirty.isdisjoint(row):
            cleaned.append(row)
            continue
        for c, value in enumerate(row):
            if value in dirty:
                book.warn("cell.control_characters",
                          f"单元格含有不可见的控制字符（{shown_controls(value)}），已删除这些字符后读取；请在工作簿中删除它们",
                          sheet, cell_ref(r + 1, c), without_controls(value))
        cleaned.append([without_controls(v) if v in dirty else v for v in row])
    return cleaned


@short_text_cache  # CellError is frozen: one instance may stand in many cells
def _checked(value: str) -> object:
    """A text cell as the table reader sees it: text that cannot be a value becomes a CellError."""
    if isinstance(value, str):
        if len(value) > limits.MAX_CELL_CHARS:
            return CellError("cell.too_long",
                             f"单元格内容过长（{len(value)} 字，上限 {limits.MAX_CELL_CHARS} 字），请只填写数值或简短说明",
                             value[: limits.FINDING_VALUE_CHARS] + "…")
        if value.strip().upper() in EXCEL_ERRORS:
            return CellError("cell.excel_error", f"单元格是 Excel 错误值 {value.strip()}，请检查公式或改为填写数值", value.strip())
    return value


def _fill_merged(grid: list[list[object]], ranges, blank: set) -> tuple[list[list[object]], set[tuple[int, int]]]:
    """Fill merges down their first column: the filled grid, and the anchors of wide single-row merges (notes).

    `grid` itself is left as written: a row a merge fills is copied first, the others are shared.
    `blank` holds every blank value of the grid (None and its texts of spaces)."""
    # Only down the first column of a merge: a title or note merged across the
    # table must stay one cell, but a label merged over rows means "same as above".
    filled = list(grid)
    wide = set()
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= len(filled) or c0 >= len(filled[r0]):
            continue
        if r1 == r0 and c1 - c0 + 1 >= _NOTE_MERGE_WIDTH:
            wide.add((r0, c0))
        for r in range(r0 + 1, min(r1, len(filled) - 1) + 1):
            if c0 < len(filled[r]) and filled[r][c0] in blank:
                if filled[r] is grid[r]:
                    filled[r] = grid[r][:]
                filled[r][c0] = filled[r0][c0]
    return filled, wide


def match_header(row: list[object], spec: SheetSpec) -> dict[str, int] | None:
    """Column positions if this row is the sheet's header (all required columns present)."""
    labels = {strip_unit_suffix(c) for c in row if isinstance(c, str)}
    if not all(labels & names for names in spec.required_names):
        return None  # most rows: asked of every row, as a header may repeat where a page breaks
    mapping = _header_columns(row, spec)
    if all(c.key in mapping for c in spec.columns if c.required):
        return mapping
    return None


def _header_columns(row: list[object], spec: SheetSpec) -> dict[str, int]:
    mapping: dict[str, int] = {}
    previous: str | None = None
    for idx, cell in enumerate(row):
        if not isinstance(cell, str):  # numbers and errors are never header labels
            if cell is not None and not isinstance(cell, CellError):
                previous = None
            continue
        label = strip_unit_suffix(cell)
        if not label:
            continue
        if label not in spec.header_names:
            previous = None
            continue
        hit = next(
            (c for c in spec.columns_of(label) if c.key not in mapping and (c.after is None or c.after == previous)),
            None,
        )
        if hit is not None:
            mapping[hit.key] = idx
        previous = hit.key if hit else None
    return mapping


@dataclass(frozen=True)
class _NoHeader:
    """The row that came closest to being the header (None: no row came close) and what it lacks."""

    row: int | None
    missing: tuple[Column, ...]

    def finding(self, spec: SheetSpec) -> tuple[str, str]:
        if self.row is None:
            names = "、".join(c.header for c in spec.columns if c.required)
            return "sheet.header_missing", f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头，表头应包含：{names}"
        described = "；".join(
            f"“{c.header}”" + (f"（也可写作：{'、'.join(c.synonyms)}）" if c.synonyms else "") for c in self.missing)
        return "sheet.column_missing", f"表头（第 {self.row + 1} 行）缺少必需的列：{described}"


def _find_header(grid: list[list[object]], spec: SheetSpec) -> tuple[int, dict[str, int]] | _NoHeader:
    required = [c for c in spec.columns if c.required]
    best: tuple[int, int, dict[str, int]] | None = None
    for r, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        mapping = _header_columns(row, spec)
        hits = sum(c.key in mapping for c in required)
        if hits == len(required):
            return r, mapping
        # Two required headers on one row is a header with columns missing, not a title.
        if hits >= 2 and (best is None or hits > best[1]):
            best = (r, hits, mapping)
    if best is None:
        return _NoHeader(None, ())
    r, _, mapping = best
    return _NoHeader(r, tuple(c for c in required if c.key not in mapping))


def _quarantine_sheet(book: Workbook, sheet: str, grid: list[list[object]], rule: str) -> None:
    """A recognised sheet without a usable header: its rows are kept as written, not dropped."""
    message = "找不到表头，整张工作表未读取" if rule == "sheet.header_missing" else "表头缺少必需的列，整张工作表未读取"
    for r, row in enumerate(grid):
        cells = {column_letters(c): normalize_text(v) for c, v in enumerate(row) if not is_blank(v)}
        if cells:
            book.unread.append({"sheet": sheet, "row": r + 1, "cells": cells, "rule": rule, "reason": message})


def column_letters(col: int) -> str:
    """0-based column index -> "A", "AB"."""
    return cell_ref(1, col)[:-1]


def _first_col(row: list[object]) -> int:
    return next(i for i, c in enumerate(row) if not is_blank(c))


def _joined(filled: list[object]) -> str:
    """A row's filled cells as one line of text."""
    return " ".join(normalize_text(c) for c in filled)


def _too_large(rows: int, columns: int) -> str:
    return (f"工作表过大（至少 {rows} 行 × {columns} 列有内容），上限为 {limits.MAX_SHEET_ROWS} 行 × "
            f"{limits.MAX_SHEET_COLUMNS} 列；请删除表格以外的内容（包括远处单元格中的空格或公式）")


def _shown(value: object) -> str | None:
    if value is None:
        return None
    text = normalize_text(value)
    return text if len(text) <= limits.FINDING_VALUE_CHARS else text[: limits.FINDING_VALUE_CHARS] + "…"


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


def department_inputs(year_dir: Path) -> list[Path]:
    """Every department input of the year, in a stable order: workbooks, CSV folders, and any
    other file (reported as not a workbook rather than skipped: a department may have sent the
    wrong file). Excel's ~$ lock files, hidden files and system files are not inputs."""
    if not year_dir.is_dir():
        return []
    return sorted(p for p in year_dir.iterdir() if is_input(p))


def not_a_plain_input(path: Path) -> str | None:
    """Why an entry of a year folder (or of a CSV folder in it) is not opened, or None for a file or folder.

    A symbolic link is never followed: the year folder is where departments' files are dropped, and a
    link in an unpacked archive would have the run read whatever it names (/etc, another bureau's files)
    into the warehouse and quote it in findings. Pipes and devices would block or never end. Either is
    reported, as an input of its own, rather than passed over."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return f"无法访问（{exc.strerror or type(exc).__name__}），未读取；请重新放入该文件"
    if stat.S_ISLNK(mode):
        return "这是一个符号链接（快捷方式），不会被跟随读取；请把工作簿文件本身（而非链接）放入年度文件夹"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "不是普通文件（而是命名管道、设备或套接字），未读取；请把工作簿文件本身放入年度文件夹"
    return None


def workbook_paths(year_dir: Path) -> list[Path]:
    """Every file the year's inputs consist of, for fingerprints: the files of
    department_inputs, and the files inside its CSV folders (never a folder itself), with the
    entries not opened (links, pipes) among them."""
    files = []
    for path in department_inputs(year_dir):
        if path.is_dir() and not not_a_plain_input(path):
            files.extend(sorted(p for p in path.iterdir() if is_input(p) and (p.is_file() or not_a_plain_input(p))))
        else:
            files.append(path)
    return files


def sha256(path: Path) -> str:
    """An input file's digest, as the run ledger records it; for an entry that is not opened
    (not_a_plain_input), the digest of what is reported about it, so an unchanged one stays unchanged."""
    if why := not_a_plain_input(path):
        target = str(path.readlink()) if path.is_symlink() else ""
        return hashlib.sha256(f"{why}\0{target}".encode("utf-8", "surrogateescape")).hexdigest()
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def is_input(path: Path) -> bool:
    return not path.name.startswith(("~$", ".")) and path.name.lower() not in _SYSTEM_FILES
