"""The package scan's byte search agrees with its XML scan, and steps aside for what it cannot see.

Most sheets hold nothing to report; jixiao.ingest.xlsx_package._quick_scan finds
that by searching the sheet's bytes (about 30 µs), where the XML scan costs
a few milliseconds. Whenever it answers, its answer must be the XML scan's.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from jixiao.ingest.xlsx_package import SheetScan, XlsxPackage, _quick_scan, _scan
from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.synth import synthesize
from jixiao_synth.workbook import Layout, write_workbook
from tests.workbook_files import Formula, edit

PROJECT = Path(__file__).resolve().parent.parent


def sheets(path: Path) -> dict[str, bytes]:
    with XlsxPackage(path) as package:
        return {name: package.parts[part] for name, part in package.sheet_parts.items()}


def full(data: bytes) -> SheetScan:
    return _scan(io.BytesIO(data))


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> list[Path]:
    """Generated departments in many layouts (hidden rows, formulas, merges, split tables…) and the seed."""
    out = tmp_path_factory.mktemp("synth")
    synthesize(out, 40, 2022, seed=7, broken_share=0.1, processes=1)
    return sorted(out.rglob("*.xlsx")) + sorted((PROJECT / "raw").rglob("*.xlsx"))


def test_the_byte_search_answers_as_the_xml_scan_does(workbooks):
    answered = with_hidden_rows = 0
    for path in workbooks:
        for name, data in sheets(path).items():
            quick = _quick_scan(data)
            if quick is None:
                continue
            answered += 1
            with_hidden_rows += bool(quick.hidden_rows)
            assert quick == full(data), (path.name, name)
    assert answered > 100 and with_hidden_rows > 0


@pytest.mark.parametrize("layout", [Layout(hidden_row_every=3), Layout(formulas=True)])
def test_hidden_rows_and_formulas_with_values_are_found_by_the_byte_search(tmp_path, layout):
    path = write_workbook(SEED_BOOK, tmp_path / "d.xlsx", layout)
    scans = {name: (_quick_scan(data), full(data)) for name, data in sheets(path).items()}
    assert all(quick == f for quick, f in scans.values())
    if layout.hidden_row_every:
        assert any(f.hidden_rows for _, f in scans.values())


@pytest.mark.parametrize("rewrite", [
    lambda xml: xml.replace(b'<col min="1" max="1"', b'<col min="1" max="1" hidden="1"', 1),  # a hidden column
    lambda xml: re.sub(rb'<row r="(3)"', rb'<row hidden="1" r="\1"', xml, count=1),  # reference not first
    lambda xml: re.sub(rb'<row r="(3)"', rb'<row r="\1" x:hidden="1"', xml, count=1),  # another namespace's
    lambda xml: re.sub(rb'<row r="(3)"', rb'<row r="\1" hidden ="1"', xml, count=1),  # a space before =
])
def test_hidden_rows_written_unusually_are_left_to_the_xml_scan(tmp_path, rewrite):
    data = sheets(write_workbook(SEED_BOOK, tmp_path / "d.xlsx"))["项目支出"]
    assert rewrite(data) != data
    assert _quick_scan(rewrite(data)) is None


def test_error_cells_and_formulas_without_values_are_left_to_the_xml_scan(tmp_path):
    seed = write_workbook(SEED_BOOK, tmp_path / "seed.xlsx")
    broken = edit(seed, tmp_path / "broken.xlsx", 项目支出={"D2": Formula("=C2/0", "#DIV/0!")})
    data = sheets(broken)["项目支出"]
    assert _quick_scan(data) is None and full(data).errors == {(1, 3): "#DIV/0!"}

    # A formula saved without its value, as a generator that does not compute writes it.
    data = sheets(seed)["项目支出"]
    uncomputed = re.sub(rb'(<c r="C2"[^>]*>)<v>[^<]*</v>', rb"\1<f>1+1</f>", data, count=1)
    assert uncomputed != data
    assert full(uncomputed).uncomputed == {(1, 2): "=1+1"} and _quick_scan(uncomputed) is None


@pytest.mark.parametrize("rewrite", [
    lambda xml: xml.replace(b"<c ", b"<x:c ").replace(b"</c>", b"</x:c>"),  # prefixed elements
    lambda xml: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", xml),  # cells without references
    lambda xml: xml.replace(b' t="s"', b" t='s'", 1),  # attributes in single quotes
    lambda xml: xml.replace(b'<c r="', b'<c r = "', 1),  # spaces around =
    lambda xml: xml.replace(b' t="s"', b' t=\n"s"', 1),  # a line break after =
    lambda xml: xml.replace(b' t="s"', b' t="&#115;"', 1),  # a character reference: t="s" to the parser
    lambda xml: xml.replace(b"<sheetData>", b"<!-- note --><sheetData>", 1),  # a comment
    lambda xml: xml.replace(b"<sheetData>", b"<?pi x?><sheetData>", 1),  # a processing instruction
    lambda xml: xml.replace(b'<c r="C3"', b'<c r="c3"', 1),  # a reference in lower case
    lambda xml: xml.replace(b'<c r="C3"', b'<c r="C3 "', 1),  # a reference with a space
])
def test_sheets_written_unusually_are_left_to_the_xml_scan(tmp_path, rewrite):
    data = sheets(write_workbook(SEED_BOOK, tmp_path / "d.xlsx"))["项目支出"]
    assert rewrite(data) != data
    assert _quick_scan(rewrite(data)) is None


def test_what_the_byte_search_would_misread_is_left_to_the_xml_scan(tmp_path):
    data = sheets(write_workbook(SEED_BOOK, tmp_path / "d.xlsx", Layout(formulas=True)))["项目支出"]
    # An error cell whose type is a character reference, and a formula whose cell ends after a comment.
    error = re.sub(rb'<c r="C3"([^>]*)>', rb'<c r="C3"\1 t="&#101;">', data, count=1).replace(
        b"<v>444.62</v>", b"<v>#DIV/0!</v>", 1)
    uncomputed = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1<!-- no value -->", data, count=1)
    assert full(error).errors == {(2, 2): "#DIV/0!"} and _quick_scan(error) is None
    assert full(uncomputed).uncomputed and _quick_scan(uncomputed) is None


def test_a_far_away_cell_counts_in_the_extent(tmp_path):
    data = sheets(write_workbook(SEED_BOOK, tmp_path / "d.xlsx"))["项目支出"]
    for ref, extent in ((b"CV7000", (7000, 100)), (b"A2000000", None), (b"ZZ7", None)):
        far = data.replace(b"</sheetData>", b'<row r="%s"><c r="%s" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
                           % (re.sub(rb"[A-Z]", b"", ref), ref))
        quick = _quick_scan(far)
        if extent is None:  # beyond the limits: the XML scan says so, and where
            assert quick is None and full(far).too_large
        else:
            assert (quick.rows, quick.columns) == extent == (full(far).rows, full(far).columns)


def test_a_far_away_cell_with_its_reference_in_lower_case_counts_in_the_extent(tmp_path):
    # calamine reads xfd1048576 as XFD1048576 and allocates the whole sheet: the process aborts.
    data = sheets(write_workbook(SEED_BOOK, tmp_path / "d.xlsx"))["项目支出"]
    far = data.replace(b"</sheetData>",
                       b'<row r="1048576"><c r="xfd1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    assert _quick_scan(far) is None and full(far).too_large
