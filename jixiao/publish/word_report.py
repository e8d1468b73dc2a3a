"""The report's sentences and tables as a Word document, ready to paste into the 自评报告.

Tables are native Word tables (python-docx): the hierarchical columns are merged
cells, the header row repeats on every page, rows below 90% are shaded, so a
clerk pastes a table and edits it like any other instead of a picture.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell

from jixiao.publish.sentences import OUTLINE
from jixiao.publish.tables import ReportTable, cell_text

_LATIN, _SONG, _HEI = "Times New Roman", "宋体", "黑体"
_HEADER_FILL, _GROUP_FILL, _FLAG_FILL = "F2F2F2", "F7F7F7", "FDECEA"
_ALERT = RGBColor(0xB3, 0x26, 0x1E)
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
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
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


def _shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _fill(cell: _Cell, text: str, *, bold: bool = False, right: bool = False, color: RGBColor | None = None,
          size: float = 10.5) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    paragraph.paragraph_format.first_line_indent = None
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold
    if color is not None:
        run.font.color.rgb = color
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _repeat_as_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _merge_down(column: list) -> object:
    """Cells of one column merged top to bottom, as Word marks it (vMerge restart, then continue).
    python-docx's Cell.merge grows a vertical span one row per level of recursion, past Python's
    limit at about a thousand rows under one 二级指标; the marks it would leave are set here directly."""
    top, *below = column
    if below:
        top._tc.vMerge = "restart"
        for cell in below:
            cell.text = ""  # a continued cell shows the top one's text; its own would be hidden, stale
            cell._tc.vMerge = "continue"
    return top


def add_table(doc, table: ReportTable) -> None:
    """The caption (the table's title), the table, then its notes and source."""
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.add_run(table.title).bold = True

    columns = table.body_columns
    headings = table.group and not table.group_as_column
    groups = list(table.groups())
    n_rows = 1 + len(table.rows) + (len(groups) if headings else 0)
    grid = doc.add_table(rows=n_rows, cols=len(columns))
    grid.style = doc.styles["Table Grid"]

    position: dict[int, int] = {}
    at = 1
    for label, members in groups:
        if headings:
            merged = grid.rows[at].cells[0].merge(grid.rows[at].cells[-1])
            _fill(merged, label, bold=True)
            _shade(merged, _GROUP_FILL)
            at += 1
        for i in members:
            position[i] = at
            at += 1
    # Cells once, by row: python-docx's table.cell() walks the whole table on every call.
    cells = [list(row.cells) for row in grid.rows]

    for c, column in enumerate(columns):
        label = table.stubhead if column.key == table.group and table.stubhead else column.label
        _fill(cells[0][c], label, bold=True)
        cells[0][c].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _shade(cells[0][c], _HEADER_FILL)
    _repeat_as_header(grid.rows[0])

    flagged, totals = set(table.flagged), set(table.totals)
    for i, row in enumerate(table.rows):
        for c, column in enumerate(columns):
            cell = cells[position[i]][c]
            alert = i in flagged and column.key == table.flag_column
            _fill(cell, cell_text(row[column.key], column.kind), bold=i in totals or alert,
                  right=column.is_number, color=_ALERT if alert else None)
            if i in flagged:
                _shade(cell, _FLAG_FILL)

    # Merge after filling: a merged cell keeps the first row's text, as the report prints it.
    for c, column in enumerate(columns):
        runs = table.spans(column.key)
        if column.key == table.group and table.group_as_column:
            runs = [(m[0], m[-1]) for _, m in groups if len(m) > 1]
        for first, last in runs:
            text = cell_text(table.rows[first][column.key], column.kind)
            merged = _merge_down([row[c] for row in cells[position[first]:position[last] + 1]])
            _fill(merged, text, right=column.is_number)
            merged.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP

    for note in [*table.notes, table.source]:
        paragraph = doc.add_paragraph()
        run = paragraph.add_run(note)
        run.font.size = Pt(9)
    doc.add_paragraph()


def write_document(tables: list[ReportTable], sentences: dict[str, str], title: str, source: str,
                   path: Path) -> Path:
    """The sentences and tables in the report's order, as a .docx file at `path`."""
    doc = _new_document(title)
    doc.add_heading(title, level=0)
    doc.add_paragraph(source).runs[0].font.size = Pt(9)
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
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
