"""What the reader's checks cost: the .xlsx package scan against calamine alone and openpyxl.

    python benchmarks/read_checks.py [--repeat 30]

calamine reads an Excel error cell (#DIV/0!) and a formula without a cached
value as '', so something must look at the sheet XML. This prints medians in
milliseconds for the bundled workbook: calamine reading every sheet; jixiao's
package check and sheet scan (xlsx_package.py); openpyxl in normal and
read-only mode (the alternatives for finding error cells); a whole
read_department; and how long the bounded checks take to reject a zip bomb
and a million-row sheet. openpyxl comes with the test extras.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl
import python_calamine

from jixiao.ingest.extract import read_department
from jixiao.ingest.xlsx_package import XlsxPackage
from jixiao.settings import PROJECT_ROOT

SEED = PROJECT_ROOT / "raw" / "2022" / "番禺区残联_2022.xlsx"


def median_ms(fn, repeat: int) -> float:
    fn()  # warm: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def calamine_all(path: Path) -> None:
    with python_calamine.CalamineWorkbook.from_path(str(path)) as book:
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            sheet.to_python(skip_empty_area=False)
            _ = sheet.merged_cell_ranges


def package_scan(path: Path) -> None:
    with XlsxPackage(path) as package:
        for name in package.sheet_parts:
            package.scan(name)


def openpyxl_errors(path: Path, read_only: bool) -> None:
    book = openpyxl.load_workbook(path, read_only=read_only, data_only=True)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                _ = cell.data_type == "e"
    book.close()


def hostile_files(folder: Path) -> dict[str, Path]:
    bomb = folder / "bomb.xlsx"
    bomb.write_bytes(SEED.read_bytes())
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as z, z.open("xl/padding.xml", "w", force_zip64=True) as f:
        for _ in range(200):
            f.write(b" " * (1 << 20))
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>1</v></c></row>' for i in range(1, 1_000_001)).encode()
    million = folder / "million.xlsx"
    with zipfile.ZipFile(SEED) as source, zipfile.ZipFile(million, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                data = re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>", data, flags=re.S)
            target.writestr(info.filename, data)
    return {"zip bomb (200 MB of XML, 0.2 MB on disk)": bomb, "a million-row 绩效指标": million}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    repeat = parser.parse_args().repeat
    print(f"{SEED.name}, {SEED.stat().st_size / 1024:.0f} KB; medians of {repeat}")
    for label, fn in [
        ("calamine, every sheet", lambda: calamine_all(SEED)),
        ("package check + sheet scan", lambda: package_scan(SEED)),
        ("openpyxl normal (data_type 'e')", lambda: openpyxl_errors(SEED, read_only=False)),
        ("openpyxl read-only", lambda: openpyxl_errors(SEED, read_only=True)),
        ("read_department (all of the above that jixiao does)", lambda: read_department(SEED, 2022)),
    ]:
        print(f"  {label:55} {median_ms(fn, repeat):8.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in hostile_files(Path(tmp)).items():
            ms = median_ms(lambda p=path: read_department(p, 2022), max(1, repeat // 10))
            rules = sorted({f.rule for f in read_department(path, 2022).findings})
            print(f"  reject {label:48} {ms:8.1f} ms  {', '.join(rules)}")


if __name__ == "__main__":
    main()
