"""Making real broken .xlsx files for tests: cells rewritten, sheets dropped, XML parts patched."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

from jixiao.ingest.xlsx_package import XlsxPackage

Grid = list[list[object]]


@dataclass(frozen=True)
class Formula:
    """A formula cell with the cached value Excel would save (an error code like "#DIV/0!" included)."""

    text: str
    value: object = 0


def grids(path: Path) -> dict[str, Grid]:
    """Every sheet's cells, as calamine reads them."""
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}


def write_grids(path: Path, sheets: dict[str, Grid]) -> Path:
    """A workbook holding exactly these cells (strings stay strings, Formula cells are formulas)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as wb:
        for name, grid in sheets.items():
            ws = wb.add_worksheet(name)
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if isinstance(value, Formula):
                        ws.write_formula(r, c, value.text, None, value.value)
                    elif isinstance(value, str):
                        if value:
                            ws.write_string(r, c, value)
                    elif value is not None:
                        ws.write_number(r, c, value)
    return path


def edit(path: Path, target: Path, **changes) -> Path:
    """Rewrite `path` to `target` with cells replaced: edit(p, t, 项目支出={"D2": "六百万"})."""
    sheets = grids(path)
    for sheet, cells in changes.items():
        grid = sheets[sheet]
        for ref, value in cells.items():
            r, c = position(ref)
            while len(grid) <= r:
                grid.append([])
            while len(grid[r]) <= c:
                grid[r].append("")
            grid[r][c] = value
    return write_grids(target, sheets)


def position(ref: str) -> tuple[int, int]:
    letters, digits = re.match(r"([A-Z]+)(\d+)", ref).groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def patch_sheet(path: Path, sheet: str, patch) -> Path:
    """Rewrite one sheet's XML in place with `patch(bytes) -> bytes`."""
    with XlsxPackage(path) as package:
        member = package.sheet_parts[sheet]
    return patch_member(path, member, patch)


def patch_member(path: Path, member: str, patch) -> Path:
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            target.writestr(info.filename, patch(data) if info.filename == member else data)
    return path


def to_csv_folder(workbook: Path, folder: Path, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    """Save every sheet of `workbook` as <sheet>.csv in `folder`, as "Save as CSV" does (values, not formats)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, grid in grids(workbook).items():
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(
            [[_csv_text(v) for v in row] for row in grid])
        (folder / f"{name}.csv").write_bytes(buffer.getvalue().encode(encoding))
    return folder


def _csv_text(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return "" if value is None else str(value)
