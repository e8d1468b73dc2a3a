"""Time the bundled 2022 run: each pipeline step without Prefect, and the whole CLI with it.

    python benchmarks/seed_run.py [--repeat 5] [--cli]

Prints medians in milliseconds. The CLI figure includes Prefect's temporary
server unless PREFECT_API_URL points at a running server.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jixiao import pipeline
from jixiao.check.rulesets import load_rulesets
from jixiao.settings import PROJECT_ROOT, Settings


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000


def steps_once(settings: Settings) -> dict[str, float]:
    rulesets = load_rulesets()
    run_id = pipeline.new_run_id()
    _, t_start = timed(lambda: pipeline.start_run(settings, run_id, force=True))
    read, t_read = timed(lambda: pipeline.read_inputs(settings, rulesets, run_id))
    batch, t_validate = timed(lambda: pipeline.check_year(read))
    (mismatches, _), t_load = timed(lambda: pipeline.load_batch(batch, settings, run_id, rulesets))
    reports, t_render = timed(lambda: pipeline.draw_reports(settings, batch, run_id))
    _, t_export = timed(lambda: pipeline.export_marts(settings, batch))
    _, t_finish = timed(lambda: pipeline.finish_run(settings, run_id, batch, mismatches, reports))
    return {"start_run": t_start, "read": t_read, "validate": t_validate, "load": t_load, "render": t_render,
            "export": t_export, "finish_run": t_finish}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cli", action="store_true", help="also time `jixiao run` as a whole (with Prefect)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(2022, PROJECT_ROOT / "raw", Path(tmp) / "jixiao.duckdb", Path(tmp) / "reports")
        runs = [steps_once(settings) for _ in range(args.repeat + 1)][1:]  # the first run pays for imports
        print(f"bundled 2022 run, {args.repeat} runs after a warm-up, median ms")
        for step in runs[0]:
            print(f"  {step:<11} {statistics.median(r[step] for r in runs):8.1f}")
        print(f"  {'total':<11} {statistics.median(sum(r.values()) for r in runs):8.1f}")
        if args.cli:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "jixiao.cli", "run", "--year", "2022", "--raw", str(PROJECT_ROOT / "raw"),
                            "--warehouse", str(Path(tmp) / "cli.duckdb"), "--out", str(Path(tmp) / "cli-reports")],
                           check=True, capture_output=True)
            print(f"  jixiao run (whole process, with Prefect): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
