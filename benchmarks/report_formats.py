"""Time drawing the bundled 2022 department in each output format, without Prefect.

    python benchmarks/report_formats.py [--repeat 3]

Loads the seed once into a temporary warehouse, then times `draw_reports` with
one format at a time, and all of them. Prints medians in seconds. PNG needs
Chromium (apt-get install chromium fonts-noto-cjk); without it, it is skipped.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from jixiao import pipeline
from jixiao.check.rulesets import load_rulesets
from jixiao.publish.outputs import FORMATS
from jixiao.publish.png import find_chromium
from jixiao.settings import PROJECT_ROOT, Settings


def loaded(settings: Settings) -> tuple[pipeline.Batch, str]:
    """The year read, checked and loaded by the pipeline's functions, without Prefect: (batch, run id)."""
    rulesets = load_rulesets()
    run_id = pipeline.new_run_id()
    pipeline.start_run(settings, run_id, force=True)
    batch = pipeline.check_year(pipeline.read_inputs(settings, rulesets))
    pipeline.load_batch(batch, settings, run_id, rulesets)
    return batch, run_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(2022, PROJECT_ROOT / "raw", Path(tmp) / "jixiao.duckdb", Path(tmp) / "reports")
        batch, run_id = loaded(settings)

        choices = [(f,) for f in FORMATS if f != "png" or find_chromium()] + [FORMATS]
        pipeline.draw_reports(settings, batch, run_id, ("html",))  # warm-up: imports, first great-tables call
        print(f"bundled 2022 department, median of {args.repeat}, seconds")
        for formats in choices:
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                written = pipeline.draw_reports(settings, batch, run_id, formats)
                times.append(time.perf_counter() - start)
            print(f"  {','.join(formats):<22} {statistics.median(times):6.2f}  ({len(written)} files)")
        if not find_chromium():
            print("  png skipped: Chromium is not installed")


if __name__ == "__main__":
    main()
