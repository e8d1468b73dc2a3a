"""The package scan's byte search agrees with its XML scan, and steps aside for what it cannot see.

Most sheets hold nothing to report; jixiao.xlsx_package._quick_scan finds
that by searching the sheet's bytes (about 30 µs), where the XML scan costs
a few milliseconds. Whenever it answers, its answer must be the XML scan's.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from jixiao.seed import SEED_BOOK
from jixiao.synth import synthesize
from jixiao.workbook import Layout, write_workbook
from jixiao.xlsx_package import SheetScan, XlsxPackage, _quick_scan, _scan
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
    answered = declined = 0
    for path in workbooks:
        for name, data in sheets(path).items():
            quick = _quick_scan(data)
            if quick is None:
                declined += 1
                continue
            answered += 1
            assert quick == full(data), (path.name, name)
    assert answered > 100 and declined > 0  # both paths ran


@pytest.mark.parametrize("layout", [Layout(hidden_row_every=3), Layout(formulas=True)])
def test_hidden_rows_and_formulas_keep_their_xml_scan(tmp_path, layout):
    path = write_workbook(SEED_BOOK, tmp_path / "d.xlsx", layout)
    scans = {name: (_quick_scan(data), full(data)) for name, data in sheets(path).items()}
    if layout.hidden_row_every:
        hidden = {name for name, (_, f) in scans.items() if f.hidden_rows}
        assert hidden and all(scans[name][0] is None for name in hidden)
    for quick, f in scans.values():
        assert quick is None or quick == f


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
])
def test_sheets_written_unusually_are_left_to_the_xml_scan(tmp_path, rewrite):
    data = rewrite(sheets(write_workbook(SEED_BOOK, tmp_path / "d.xlsx"))["项目支出"])
    assert _quick_scan(data) is None


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
