"""The report's sentences and tables as a Word document, ready to paste into the 自评报告.

Tables are native Word tables (python-docx), as the report files them (tables.filed): no
marks, shading, notes or rows the report does not print; the hierarchical columns are
merged cells, the header row repeats on every page, and the columns are as wide as their
text (fit.py) in a fixed layout filling the page's text width, so Word, WPS and LibreOffice
draw them alike. Where the figures came from (数据来源, 运行编号, 评分规则) is said once,
in a 说明 at the end of the document and in its properties.

Filling a cell through python-docx's setters costs about a third of a millisecond; a
department may have 49,000 rows. Each distinct cell style is filled once through
python-docx and later cells of that style are copies of it with their own text
(_Cells), which writes the same XML as filling each one.
"""

from __future__ import annotations

import re
from copy import deepcopy
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tc
from docx.shared import Cm, Emu, Pt, RGBColor, Twips
from docx.table import _Cell

from jixiao.publish.fit import fit_widths
from jixiao.publish.sentences import OUTLINE
from jixiao.publish.tables import ReportTable, cell_text, filed, lineage

_LATIN, _SONG, _HEI = "Times New Roman", "宋体", "黑体"
_CELL_SIZE = 10.5
# A table fills the text width; its columns share it in half-em units of the cells' text (fit.py).
_PAGE_WIDTH, _MARGIN = Cm(21), Cm(2.2)
_UNIT_TWIPS = _CELL_SIZE / 2 * 20
# A cell of text python-docx writes as more than one w:t (tabs and breaks) is filled, not copied.
_NOT_PLAIN = re.compile(r"[\t\n\r]")
_PRESERVE = qn("xml:space")
# A fixed creation time keeps the document's properties the same from run to run.
_CREATED = datetime(2000, 1, 1)


def _set_fonts(style, east_asian: str, size: float | None = None, bold: bool | None = None) -> None:
    style.font.name = _LATIN
    style.font.color.rgb = RGBColor(0, 0, 0)
    if size:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    # Theme fonts would override the names; the report's fonts are fixed.
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:eastAsia"), east_asian)


def _new_document(title: str):
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = _PAGE_WIDTH, Cm(29.7)
    section.left_margin = section.right_margin = _MARGIN
    _set_fonts(doc.styles["Normal"], _SONG, 12)
    for name, size in (("Title", 18), ("Heading 1", 15), ("Heading 2", 13)):
        _set_fonts(doc.styles[name], _HEI, size, bold=True)
    props = doc.core_properties
    props.title, props.author, props.created, props.modified = title, "jixiao", _CREATED, _CREATED
    props.last_modified_by, props.revision = "jixiao", 1
    props.language = "zh-CN"
    _chinese_by_default(doc)
    return doc


def _chinese_by_default(doc) -> None:
    """python-docx's template marks text en-US (and East Asian text ja-JP): Word then checks spelling and
    picks fonts as for those languages. The report is Chinese."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    run = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = run.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        run.append(lang)
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        lang.set(qn(attribute), "zh-CN")


def _fill(cell: _Cell, text: str, *, bold: bool = False, right: bool = False, color: RGBColor | None = None,
          size: float = _CELL_SIZE) -> None:
    """A new cell's one paragraph given its run of text."""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    paragraph.paragraph_format.first_line_indent = None
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold
    if color is not None:
        run.font.color.rgb = color
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _repeat_as_header(tr) -> None:
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr.get_or_add_trPr().append(header)


class _Cells:
    """The table's cells as w:tc elements, each filled as _fill would; a copy of the first cell
    filled in the same style when its text is plain (see the module's docstring)."""

    def __init__(self, grid, copies: bool = True):
        self.grid = grid
        self.copies = copies
        self.templates: dict[tuple, CT_Tc] = {}

    def make(self, text: str, width: int, *, bold: bool = False, right: bool = False, center: bool = False,
             merge: str | None = None, top: bool = False, span: int = 1) -> CT_Tc:
        key = (width, bool(text), bold, right, center, merge, top, span)
        plain = self.copies and not _NOT_PLAIN.search(text)
        template = self.templates.get(key) if plain else None
        if template is not None:
            tc = deepcopy(template)
            if text:
                t = tc[-1][-1][-1]
                t.text = text
                if len(text.strip()) < len(text):
                    t.set(_PRESERVE, "preserve")
                else:
                    t.attrib.pop(_PRESERVE, None)
            return tc
        tc = CT_Tc.new()
        tc.width = Twips(width)
        if span > 1:
            tc.gridSpan = span
        if merge:
            tc.vMerge = merge
        cell = _Cell(tc, self.grid)
        _fill(cell, text, bold=bold, right=right)
        if center:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        if top:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
        if plain and (not text or tc[-1][-1][-1].tag == qn("w:t")):
            self.templates[key] = tc
        return tc


def _twips(widths: list[float], total: int) -> list[int]:
    """Column widths in units as whole twips summing to the text width, `total`."""
    scale = total / sum(widths)
    edges = [round(sum(widths[:i + 1]) * scale) for i in range(len(widths))]
    return [b - a for a, b in zip([0, *edges[:-1]], edges, strict=True)]


def _fixed_layout(grid, widths: list[int]) -> None:
    """Widths Word, WPS and LibreOffice all keep: the table's, each grid column's, a fixed layout."""
    grid.autofit = False
    tbl = grid._tbl
    tblW = tbl.tblPr.find(qn("w:tblW"))
    if tblW is None:
        tblW = OxmlElement("w:tblW")
        tbl.tblPr.append(tblW)
    tblW.set(qn("w:type"), "dxa")
    tblW.set(qn("w:w"), str(sum(widths)))
    for col, width in zip(tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.w = Twips(width)


def add_table(doc, table: ReportTable, *, copies: bool = True) -> None:
    """The caption (the table's title) and the table as filed; its notes and source go to the 说明."""
    table = filed(table)
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.add_run(table.title).bold = True

    columns = table.body_columns
    section = doc.sections[-1]
    text_width = Emu(section.page_width - section.left_margin - section.right_margin).twips
    widths = _twips(fit_widths(table, text_width / _UNIT_TWIPS, cap=text_width / _UNIT_TWIPS), text_width)
    grid = doc.add_table(rows=0, cols=len(columns))
    grid.style = doc.styles["Table Grid"]
    _fixed_layout(grid, widths)
    cells = _Cells(grid, copies)
    tbl = grid._tbl

    def add_row(tcs: list[CT_Tc]):
        tr = tbl.add_tr()
        for tc in tcs:
            tr.append(tc)
        return tr

    header = add_row([cells.make(table.header(c), w, bold=True, center=True)
                      for c, w in zip(columns, widths, strict=True)])
    _repeat_as_header(header)

    # Merged runs: the first row's cell carries the text, at the top; the cells below continue it.
    starts: dict[tuple[int, int], str] = {}
    continued: set[tuple[int, int]] = set()
    for c, runs in table.merged_runs().items():
        column = columns[c]
        for first, last in runs:
            starts[first, c] = cell_text(table.rows[first][column.key], column.kind)
            continued.update((r, c) for r in range(first + 1, last + 1))

    headings = table.group and not table.group_as_column
    totals = set(table.totals)
    for label, members in table.groups():
        if headings:
            add_row([cells.make(label, sum(widths), bold=True, span=len(columns))])
        for i in members:
            row = table.rows[i]
            tcs = []
            for c, column in enumerate(columns):
                right = column.is_number
                if (i, c) in continued:
                    tcs.append(cells.make("", widths[c], right=right, merge="continue"))
                elif (i, c) in starts:
                    tcs.append(cells.make(starts[i, c], widths[c], right=right, merge="restart", top=True))
                else:
                    tcs.append(cells.make(cell_text(row[column.key], column.kind), widths[c],
                                          bold=i in totals, right=right))
            add_row(tcs)
    doc.add_paragraph()


def _add_notes(doc, lines: list[str]) -> None:
    """说明 at the end of the document, and in its properties: where the tables' figures came from."""
    lines = [line for line in lines if line]
    if not lines:
        return
    doc.core_properties.comments = "\n".join(lines)
    doc.add_heading("说明", level=2)
    for line in lines:
        doc.add_paragraph().add_run(line).font.size = Pt(9)


def write_document(tables: list[ReportTable], sentences: dict[str, str], title: str, source: str,
                   path: Path) -> Path:
    """The sentences and tables in the report's order, as a .docx file at `path`."""
    doc = _new_document(title)
    doc.add_heading(title, level=0)
    by_key = {t.key: t for t in tables}
    section = None
    for heading, subheading, keys, table_key in OUTLINE:
        lines = [sentences[k] for k in keys if k in sentences]
        table = by_key.get(table_key) if table_key else None
        if not lines and table is None:
            continue
        if heading != section:
            doc.add_heading(heading, level=1)
            section = heading
        doc.add_heading(subheading, level=2)
        for line in lines:
            paragraph = doc.add_paragraph(line)
            paragraph.paragraph_format.first_line_indent = Pt(24)  # two characters, as the report indents
        if table is not None:
            add_table(doc, table)
    _add_notes(doc, list(dict.fromkeys([source, *lineage(tables)])))
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def write_tables_document(tables: list[ReportTable], title: str, path: Path,
                          fields: dict[str, str] | None = None) -> Path:
    """A document of `fields` (label: text, as a form prints its header and texts) and then `tables`, in order."""
    doc = _new_document(title)
    doc.add_heading(title, level=0)
    for label, text in (fields or {}).items():
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{label}：").bold = True
        paragraph.add_run(text)
    for table in tables:
        doc.add_heading(table.title, level=2)
        add_table(doc, table)
    _add_notes(doc, lineage(tables))
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
