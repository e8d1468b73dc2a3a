"""What calamine does not tell about an .xlsx, read from the zip package itself.

calamine reads cell values fast, but it gives an Excel error cell (#DIV/0!,
#REF!) and a formula without a cached value both as '', says nothing about
hidden rows, and allocates the whole rectangle from A1 to the farthest cell
before returning a sheet: a file with one cell at A1 and one at XFD1048576
aborts the process. So before calamine opens a workbook, this module checks
the package (declared sizes, CRCs, the sheet list) and scans each sheet that
will be read for its extent, its error cells, its formulas without values and
its hidden rows. The scan streams the sheet XML with the standard library's
expat parser (≥ 2.4.1 refuses entity-expansion bombs), about 2 ms for the
bundled workbook (benchmarks/read_checks.py).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import olefile

from jixiao.ingest import limits

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# What a non-workbook file most likely is, by its first bytes: said to the clerk.
_KNOWN_KINDS = (
    (b"%PDF", "PDF 文件"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf", "7z 压缩包"),
    (b"{\\rtf", "RTF 文档"),
)
_CELL_REF = re.compile(r"^([A-Za-z]{1,4})([0-9]{1,9})$")


class PackageError(Exception):
    """The file cannot be read as a workbook: a finding for the whole file."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule, self.message = rule, message


@dataclass
class SheetScan:
    """One sheet as its XML has it. Positions are 0-based (row, column), like calamine's grid."""

    rows: int = 0  # rows up to the farthest cell holding something
    columns: int = 0
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # -> "#DIV/0!"
    uncomputed: dict[tuple[int, int], str] = field(default_factory=dict)  # -> the formula
    hidden_rows: set[int] = field(default_factory=set)
    too_large: bool = False


def sniff(path: Path) -> str:
    """"zip", "ole" (a legacy .xls or an encrypted workbook), "empty", or what else the file looks like."""
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        return "empty"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head == OLE_MAGIC:
        return "ole"
    for magic, kind in _KNOWN_KINDS:
        if head.startswith(magic):
            return kind
    if head.lstrip(b"\xef\xbb\xbf").lstrip().startswith((b"<", b"<!")):
        return "网页或 XML 文件"
    return "非 Excel 文件"


def is_encrypted_ooxml(path: Path) -> bool:
    """An .xlsx saved with a password to open is not a zip but an OLE container holding the
    encrypted package (MS-OFFCRYPTO); an unencrypted OLE file is a legacy .xls."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            return ole.exists("EncryptedPackage")
    except (OSError, ValueError, NotImplementedError):  # not a valid OLE container: calamine will say so
        return False


class XlsxPackage:
    """An .xlsx opened as a zip: checked on opening, then scanned sheet by sheet."""

    def __init__(self, path: Path):
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise PackageError("workbook.damaged", f"文件不完整或已损坏（{_reason(exc)}），请重新保存后提交") from None
        try:
            self._check_sizes()
            self.sheet_parts = self._sheet_parts()
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> XlsxPackage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    def _check_sizes(self) -> None:
        members = self.zip.infolist()
        if len(members) > limits.MAX_ZIP_MEMBERS:
            raise PackageError("workbook.too_large",
                               f"文件包含 {len(members)} 个部件，超过上限 {limits.MAX_ZIP_MEMBERS}，不像是正常的工作簿")
        xml = [m for m in members if m.filename.endswith((".xml", ".rels"))]
        biggest = max(xml, key=lambda m: m.file_size, default=None)
        total = sum(m.file_size for m in xml)
        if (biggest is not None and biggest.file_size > limits.MAX_XML_PART_BYTES) or total > limits.MAX_XML_TOTAL_BYTES:
            raise PackageError(
                "workbook.too_large",
                f"文件解压后过大（{_mb(total)}，单个部件最大 {_mb(biggest.file_size)}；上限为 {_mb(limits.MAX_XML_TOTAL_BYTES)}），"
                "可能是异常或恶意文件，未读取")
        # Inflating every XML part once checks its CRC against the declared size, so
        # a member that inflates beyond what it declares cannot slip past the bound above.
        # The parts are kept: the sheet scans read them again (all within the bound).
        self.parts: dict[str, bytes] = {}
        for member in xml:
            try:
                with self.zip.open(member) as f:
                    self.parts[member.filename] = f.read(limits.MAX_XML_PART_BYTES + 1)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
                raise PackageError("workbook.damaged", f"文件已损坏（{member.filename}：{_reason(exc)}），请重新保存后提交") from None

    def _read_xml(self, name: str) -> ElementTree.Element | None:
        data = self.parts.get(name)  # inflated and checked by _check_sizes already
        if data is None:
            try:
                data = self.zip.read(name)
            except KeyError:
                return None
        try:
            return ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            raise PackageError("workbook.damaged", f"文件已损坏（{name} 不是有效的 XML：{exc}）") from None

    def _sheet_parts(self) -> dict[str, str]:
        """Sheet name -> zip member of its XML, through the package's relationships."""
        main = "xl/workbook.xml"
        rels = self._read_xml("_rels/.rels")
        for rel in (rels if rels is not None else []):
            if rel.get("Type", "").endswith("/officeDocument"):
                main = _resolve("", rel.get("Target", ""))
        if main.endswith(".bin"):
            raise PackageError("workbook.format_unsupported", "这是二进制格式的工作簿（.xlsb），请在 Excel 中另存为 .xlsx 后提交")
        if self.zip.namelist()[:1] == ["mimetype"] and b"opendocument" in self.zip.read("mimetype"):
            raise PackageError("workbook.format_unsupported", "这是 OpenDocument 表格（.ods），请在 WPS 或 Excel 中另存为 .xlsx 后提交")
        workbook = self._read_xml(main)
        if workbook is None:
            kind = "Word 文档" if "word/document.xml" in self.zip.namelist() else (
                "PowerPoint 演示文稿" if "ppt/presentation.xml" in self.zip.namelist() else "压缩包")
            raise PackageError("workbook.not_a_workbook", f"文件不是 Excel 工作簿（看起来是{kind}），请提交 .xlsx 工作簿")
        base = posixpath.dirname(main)
        targets = {}
        part_rels = self._read_xml(posixpath.join(base, "_rels", posixpath.basename(main) + ".rels"))
        for rel in (part_rels if part_rels is not None else []):
            targets[rel.get("Id")] = _resolve(base, rel.get("Target", ""))
        parts = {}
        for el in workbook.iter():
            if _local(el.tag) != "sheet":
                continue
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if el.get("name") is not None and rid in targets:
                parts[el.get("name")] = targets[rid]
        return parts

    def scan(self, sheet: str) -> SheetScan | None:
        part = self.sheet_parts.get(sheet)
        if part is None or part not in self.parts:
            return None
        data = self.parts[part]
        quick = _quick_scan(data)
        if quick is not None:
            return quick
        try:
            return _scan(io.BytesIO(data))
        except ElementTree.ParseError as exc:
            raise PackageError("workbook.damaged", f"工作表“{sheet}”已损坏（{exc}）") from None


# A sheet as Excel, WPS, openpyxl or xlsxwriter write it: unprefixed elements, every cell
# with its reference first, written as A1. Each cell holding something (not `<c .../>` or
# `<c ...></c>`) as (column letters, row digits); and (b"", b"") for a cell not written so.
# One pass for both: the sheet's longest. [^>]*+ does not backtrack: only the first > can end
# the tag, so giving characters back could never make a match, but costs every empty cell.
_CELL = re.compile(rb'<c(?: r="([A-Z]{1,4})([0-9]{1,9})"[^>]*+(?<!/)>(?!</c>)|(?=[\s>/])(?! r="[A-Z]{1,4}[0-9]{1,9}"))')
# A hidden row as those write it: its reference first.
_HIDDEN_ROW = re.compile(rb'<row r="([0-9]{1,9})"[^>]*?\shidden="(?:1|true)"')
_PREFIXED_SHEET_DATA = re.compile(rb":(?:sheetData|row|c|f|v)[\s>/]")  # <x:c …>
# A formula element closed right before its cell: no cached value after it.
_FORMULA_WITHOUT_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*</c>")
_RARE = (b"&", b"!", b"?", b"'", b"\t", b"\n", b"\r")  # in a sheet (see _quick_scan)


def _quick_scan(data: bytes) -> SheetScan | None:
    """The scan of a sheet with no errors to report, found by searching its bytes.

    None when the sheet may hold an error cell or a formula without a value, or
    is written in a way the searches do not cover, or looks too large: the XML
    scan then says exactly where. Each pass over the bytes counts (a sheet is
    searched a dozen times): byte searches come first, and regular expressions
    start with a literal the engine can skip to."""
    if b'="e"' in data:  # an error cell (t="e"; another attribute with the value "e" only costs the XML scan)
        return None
    # & ! ? ' and tabs and line breaks are rare after the XML declaration (one byte is found at
    # memchr's speed). With none of them there is no character reference (t="&#101;" is t="e" to
    # the parser), no comment, CDATA or DTD (<!…), no processing instruction, no attribute written
    # name='value' or name=<tab>"value"; otherwise each is searched for.
    declaration = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
    body = len(data) - len(data[declaration:].lstrip())  # where the root element starts
    if any(data.find(byte, body) >= 0 for byte in _RARE) and (
            b"&#" in data or b"<!" in data or data.find(b"<?", declaration) >= 0 or b"='" in data
            or b"=\t" in data or b"=\n" in data or b"=\r" in data):
        return None
    if b"= " in data:  # an attribute written name= "value"
        return None
    if _PREFIXED_SHEET_DATA.search(data):
        return None
    if b"<f" in data and _FORMULA_WITHOUT_VALUE.search(data):
        return None
    scan = SheetScan()
    if b"hidden" in data:
        hidden = _HIDDEN_ROW.findall(data)
        # Every hidden="1" on a row written as above; any other "hidden" (a hidden column,
        # hidden ="1", x:hidden) is left to the XML scan.
        if data.count(b"hidden") != data.count(b'hidden="') or \
                len(hidden) != data.count(b'hidden="1"') + data.count(b'hidden="true"'):
            return None
        scan.hidden_rows = {int(digits) - 1 for digits in hidden}
    cells = _CELL.findall(data)
    if cells:
        # Distinct references only: a sheet has far fewer rows and columns than cells.
        letters = {letter for letter, _ in cells}
        if b"" in letters:
            return None  # a cell without its reference first, as A1
        scan.rows = max(map(int, {digits for _, digits in cells}))
        scan.columns = _position(max(letters, key=lambda t: (len(t), t)).decode() + "1")[1] + 1
    if scan.rows > limits.MAX_SHEET_ROWS or scan.columns > limits.MAX_SHEET_COLUMNS:
        return None
    return scan


def _scan(stream) -> SheetScan:
    scan = SheetScan()
    row = -1
    col = -1
    sheet_data = None
    for event, el in ElementTree.iterparse(stream, events=("start", "end")):
        name = _local(el.tag)
        if event == "start":
            if name == "row":
                ref = el.get("r")
                row = int(ref) - 1 if ref and ref.isdigit() else row + 1
                col = -1
                if el.get("hidden") in ("1", "true"):
                    scan.hidden_rows.add(row)
            elif name == "c":
                position = _position(el.get("r"))
                col = position[1] if position else col + 1
                if position and position[0] != row:  # a cell outside its row element: trust the cell
                    row = position[0]
            elif name == "sheetData":
                sheet_data = el
            continue
        if name == "c":
            children = {_local(child.tag): child for child in el}
            if children:
                scan.rows = max(scan.rows, row + 1)
                scan.columns = max(scan.columns, col + 1)
                if scan.rows > limits.MAX_SHEET_ROWS or scan.columns > limits.MAX_SHEET_COLUMNS:
                    scan.too_large = True
                    return scan
            if el.get("t") == "e" and "v" in children:
                scan.errors[(row, col)] = (children["v"].text or "").strip()
            elif "f" in children and "v" not in children:
                scan.uncomputed[(row, col)] = "=" + (children["f"].text or "")
        elif name == "row" and sheet_data is not None:
            sheet_data.clear()  # rows done with: keeps a long sheet's scan in constant memory
    return scan


def _position(ref: str | None) -> tuple[int, int] | None:
    match = _CELL_REF.match(ref or "")
    if not match:
        return None
    letters, digits = match.groups()
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1:]


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base, target))


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
