"""CSV input: a department folder of CSV files named after the sheets.

`raw/<year>/<folder>/基本情况.csv`, `绩效指标.csv`, … (or the sheets' aliases,
表2-2.csv): each file is one sheet, laid out as in the workbook (title rows,
header, 合计 row, notes), and goes through the same table reader. Chinese
offices save CSV in GBK as often as in UTF-8, so the encoding is detected:
a byte-order mark decides; otherwise the bytes are tried as UTF-8, then as
GB18030 (the superset of GBK and GB2312). Valid UTF-8 is practically never
valid-looking GBK text and vice versa, so trial decoding is enough here.
Comma- and tab-separated files (Excel's "Unicode text") are both read.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from jixiao.ingest import limits
from jixiao.ingest.read import Workbook, is_input, not_a_plain_input, read_grid
from jixiao.ingest.safe_text import shown_name
from jixiao.ingest.sheets import SheetSet

# A CSV sheet of a department's form is a few KB; beyond this it is not one.
MAX_CSV_BYTES = 10 * 1024 * 1024
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))


class CsvProblem(Exception):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule, self.message = rule, message


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a CSV file's bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or GBK."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), name
            except UnicodeDecodeError as exc:
                raise CsvProblem("csv.encoding", f"文件以 {name} 标记开头，但第 {exc.start} 字节处内容无法按 {name} 读取") from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK"
    except UnicodeDecodeError:
        raise CsvProblem("csv.encoding", "文件编码无法识别（既不是 UTF-8 也不是 GBK），请在 Excel 或 WPS 中另存为“CSV UTF-8”") from None


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    return "\t" if sample.count("\t") > sample.count(",") else ","


def read_rows(path: Path) -> list[list[str]]:
    """The CSV file's cells, row by row; raises CsvProblem for a file that is not a readable sheet."""
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise CsvProblem("sheet.too_large", f"文件过大（{size / 2**20:.1f} MB，上限 {MAX_CSV_BYTES // 2**20} MB），未读取")
    text, _ = decode(path.read_bytes())
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)):
            if len(rows) >= limits.MAX_SHEET_ROWS or len(row) > limits.MAX_SHEET_COLUMNS:
                raise CsvProblem("sheet.too_large", f"文件过大（超过 {limits.MAX_SHEET_ROWS} 行或 {limits.MAX_SHEET_COLUMNS} 列），未读取")
            rows.append(row)
    except csv.Error as exc:
        raise CsvProblem("csv.unreadable", f"无法按 CSV 格式读取（{exc}）") from None
    return rows


def read_csv_folder(folder: Path, sheets: SheetSet) -> Workbook:
    """A department folder of CSV files as a Workbook: each file is the sheet named by its stem."""
    book = Workbook(folder, sheets)
    seen: dict[str, str] = {}
    files = sorted(p for p in folder.iterdir() if is_input(p) and (p.is_file() or not_a_plain_input(p)))
    for path in files:
        spec = sheets.spec_for(path.stem) if path.suffix.lower() == ".csv" else None
        if spec is None:
            book.ignored_sheets.append(shown_name(path.name))
            continue
        if spec.key in seen:
            book.error("sheet.duplicate", f"文件夹中有两个“{spec.name}”文件（{seen[spec.key]} 和 {shown_name(path.name)}），"
                                          "无法确定以哪个为准，请删除多余的一个", path.stem)
            continue
        seen[spec.key] = shown_name(path.name)
        if why := not_a_plain_input(path):
            book.error("input.not_a_plain_file", f"{shown_name(path.name)}：{why}", path.stem)
            continue
        try:
            grid = read_rows(path)
        except CsvProblem as exc:
            book.error(exc.rule, exc.message, path.stem)
            continue
        table = read_grid(book, spec, path.stem, grid)
        if table is not None:
            book.tables[spec.key] = table
    if not seen:
        others = "、".join(shown_name(p.name) for p in files) or "无"
        book.error("csv.folder_without_sheets",
                   f"部门文件夹中没有以工作表命名的 CSV 文件（应有 基本情况.csv、绩效指标.csv、项目支出.csv、自评得分.csv）；"
                   f"文件夹中的文件为：{others}")
        return book
    for spec in sheets.specs:
        if spec.required and spec.key not in seen:
            book.error("sheet.missing", f"缺少必需的“{spec.name}.csv”（也可命名为：{'、'.join(a + '.csv' for a in spec.aliases)}）")
    return book
