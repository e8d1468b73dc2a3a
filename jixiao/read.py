"""Reading a department's workbook into located tables.

A department's sheet is a grid a person laid out: a title above, a header
somewhere, merged cells, a 合计 row, notes below. This module finds the table
in that grid and keeps every cell's position, so any later finding can point
at the cell a clerk has to fix. Values are not interpreted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import python_calamine

from jixiao.findings import Finding, cell_ref
from jixiao.numbers import WAN, compact, is_blank, normalize_text, unit_scale
from jixiao.sheets import NOTE_PREFIXES, SHEETS, TOTAL_LABELS, SheetSpec, spec_for_sheet, strip_unit_suffix

HEADER_SEARCH_ROWS = 30
MAX_SHEET_ROWS = 50_000
MAX_SHEET_COLUMNS = 200

Cells = dict[str, object]


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

    def cell(self, row: int, key: str) -> str:
        return cell_ref(row, self.columns[key])


@dataclass
class Workbook:
    path: Path
    tables: dict[str, Table] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.path.name


def read_workbook(path: Path) -> Workbook:
    book = Workbook(path)
    try:
        source = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for broken files; all mean the same to a clerk
        book.findings.append(Finding("error", "workbook.unreadable", f"文件无法作为 Excel 工作簿打开：{exc}", book.file))
        return book
    with source:
        for name in source.sheet_names:
            spec = spec_for_sheet(name)
            if spec is None or spec.key in book.tables:
                book.ignored_sheets.append(name)
                continue
            sheet = source.get_sheet_by_name(name)
            if sheet.total_height > MAX_SHEET_ROWS or sheet.total_width > MAX_SHEET_COLUMNS:
                book.findings.append(Finding(
                    "error", "sheet.too_large",
                    f"工作表过大（{sheet.total_height} 行 × {sheet.total_width} 列），上限为 {MAX_SHEET_ROWS} 行 × {MAX_SHEET_COLUMNS} 列",
                    book.file, name))
                continue
            grid = sheet.to_python(skip_empty_area=False)
            _fill_merged(grid, sheet.merged_cell_ranges or [])
            table = _find_table(grid, spec, name, book)
            if table is not None:
                book.tables[spec.key] = table
    for spec in SHEETS:
        if spec.required and spec.key not in book.tables and not any(
            f.sheet and spec_for_sheet(f.sheet) is spec for f in book.findings
        ):
            book.findings.append(Finding(
                "error", "sheet.missing", f"缺少必需的工作表“{spec.name}”（也可命名为：{'、'.join(spec.aliases)}）", book.file))
    return book


def _fill_merged(grid: list[list[object]], ranges) -> None:
    # Only down the first column of a merge: a title or note merged across the
    # table must stay one cell, but a label merged over rows means "same as above".
    for (r0, c0), (r1, _c1) in ranges:
        if r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        for r in range(r0 + 1, min(r1, len(grid) - 1) + 1):
            if c0 < len(grid[r]) and is_blank(grid[r][c0]):
                grid[r][c0] = grid[r0][c0]


def match_header(row: list[object], spec: SheetSpec) -> dict[str, int] | None:
    """Column positions if this row is the sheet's header (all required columns present)."""
    mapping: dict[str, int] = {}
    previous: str | None = None
    for idx, cell in enumerate(row):
        label = strip_unit_suffix(str(cell)) if not is_blank(cell) else ""
        if not label:
            continue
        hit = next(
            (c for c in spec.columns
             if c.key not in mapping and c.matches(label) and (c.after is None or c.after == previous)),
            None,
        )
        if hit is not None:
            mapping[hit.key] = idx
        previous = hit.key if hit else None
    if all(c.key in mapping for c in spec.columns if c.required):
        return mapping
    return None


def _find_table(grid: list[list[object]], spec: SheetSpec, sheet: str, book: Workbook) -> Table | None:
    for r, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        columns = match_header(row, spec)
        if columns is not None:
            break
    else:
        names = "、".join(c.header for c in spec.columns if c.required)
        book.findings.append(Finding(
            "error", "sheet.header_missing",
            f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头，表头应包含：{names}", book.file, sheet))
        return None

    title_scale = next((s for s in (unit_scale(str(c)) for row_ in grid[:r] for c in row_ if not is_blank(c)) if s), None)
    scales = {
        c.key: unit_scale(str(row[columns[c.key]])) or title_scale or WAN
        for c in spec.columns if c.kind == "amount" and c.key in columns
    }
    table = Table(spec, sheet, r + 1, columns, scales)
    hierarchy = [c.key for c in spec.columns if c.hierarchical and c.key in columns]
    last: Cells = {}
    seen_total = False
    for r in range(table.header_row, len(grid)):
        row = grid[r]
        filled = [c for c in row if not is_blank(c)]
        if not filled:
            continue
        if match_header(row, spec) is not None:
            continue  # a header repeated where the table breaks across pages
        first = compact(filled[0])
        if first in TOTAL_LABELS:
            seen_total = True
            table.totals.append((r + 1, _pick(row, columns)))
            continue
        if len(filled) == 1 and (seen_total or first.startswith(NOTE_PREFIXES)):
            table.notes.append((r + 1, normalize_text(filled[0])))
            continue
        cells = _pick(row, columns)
        for key in hierarchy:
            if is_blank(cells[key]) and key in last:
                cells[key] = last[key]
        last = cells
        table.rows.append((r + 1, cells))
    return table


def _pick(row: list[object], columns: dict[str, int]) -> Cells:
    return {key: (row[idx] if idx < len(row) else "") for key, idx in columns.items()}


def workbook_paths(year_dir: Path) -> list[Path]:
    """The year's workbooks, in a stable order; Excel's ~$ lock files are not workbooks."""
    if not year_dir.is_dir():
        return []
    return sorted(p for p in year_dir.iterdir() if p.suffix.lower() in {".xlsx", ".xlsm", ".xls", ".ods"}
                  and not p.name.startswith(("~$", ".")))
