"""Time drawing one department whose 绩效指标 sheet has many rows, in each output format, without Prefect.

    python benchmarks/draw_rows.py [--rows 1000,5000,10000,49000] [--formats html,png,xlsx,docx]

The bundled 2022 workbook with N more indicators under one 一级/二级 heading
(the shape that made python-docx recurse, and great-tables' body grow with the
square of its rows), loaded into a temporary warehouse, then drawn once per
format. Prints seconds per format and row count; PNG is skipped without
Chromium. The reader's limit is 50,000 rows a sheet: 49,000 is the largest
workbook it accepts.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from report_formats import loaded  # benchmarks/, the script's own folder

from jixiao import pipeline
from jixiao.publish.outputs import FORMATS
from jixiao.publish.png import find_chromium
from jixiao.settings import Settings
from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import Indicator, write_workbook


def _loaded(tmp: Path, rows: int) -> tuple[Settings, pipeline.Batch, str]:
    many = tuple(Indicator("产出指标", "数量指标", f"指标{i}", "100例", f"{90 + i % 20}例") for i in range(rows))
    write_workbook(dataclasses.replace(SEED_BOOK, indicators=SEED_BOOK.indicators + many),
                   tmp / "raw" / "2022" / "区残联.xlsx")
    settings = Settings(2022, tmp / "raw", tmp / "jixiao.duckdb", tmp / "reports")
    return settings, *loaded(settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="1000,5000,10000,49000")
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f != "png" or find_chromium()]
    print("one department, N indicator rows, seconds per format")
    print(f"  {'rows':>7} " + " ".join(f"{f:>8}" for f in formats))
    for rows in (int(n) for n in args.rows.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            settings, batch, run_id = _loaded(Path(tmp), rows)
            times = []
            for fmt in formats:
                start = time.perf_counter()
                pipeline.draw_reports(settings, batch, run_id, (fmt,))
                times.append(time.perf_counter() - start)
            print(f"  {rows:>7} " + " ".join(f"{t:8.1f}" for t in times), flush=True)
    if "png" in args.formats and not find_chromium():
        print("  png skipped: Chromium is not installed")


if __name__ == "__main__":
    main()
