"""The yearly run as a Prefect flow: it reads like the pipeline's table of contents."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NONE

from jixiao import pipeline
from jixiao.rulesets import load_rulesets
from jixiao.settings import Settings

# Departments and frames are not hashable inputs; results are not reused across runs.
step = task(cache_policy=NONE)


@step
def start_run(settings: Settings, run_id: str) -> None:
    pipeline.start_run(settings, run_id)


@step
def read_workbooks(settings: Settings) -> list[pipeline.Department]:
    return pipeline.read_departments(settings)


@step
def validate_sheets(departments, settings: Settings, rulesets) -> pipeline.Batch:
    return pipeline.check_departments(departments, settings.year, rulesets, settings.ruleset)


@step
def load_warehouse(batch: pipeline.Batch, settings: Settings, run_id: str, rulesets):
    return pipeline.load_batch(batch, settings, run_id, rulesets)


@step
def render_tables(settings: Settings, batch: pipeline.Batch, run_id: str) -> list[Path]:
    return pipeline.draw_reports(settings, batch, run_id)


@step
def finish_run(settings: Settings, run_id: str, batch, mismatches, reports) -> pipeline.RunSummary:
    return pipeline.finish_run(settings, run_id, batch, mismatches, reports)


@flow(name="jixiao-year", flow_run_name="jixiao-{year}", log_prints=True)
def run_year(
    year: int,
    raw_dir: Path = Path("raw"),
    warehouse: Path = Path("warehouse/jixiao.duckdb"),
    out_dir: Path = Path("warehouse/reports"),
    departments: list[str] | None = None,
    ruleset: str | None = None,
) -> pipeline.RunSummary:
    settings = Settings(year, Path(raw_dir), Path(warehouse), Path(out_dir), tuple(departments or ()), ruleset)
    rulesets = load_rulesets()
    run_id = pipeline.new_run_id()
    start_run(settings, run_id)
    try:
        found = read_workbooks(settings)
        batch = validate_sheets(found, settings, rulesets)
        mismatches = load_warehouse(batch, settings, run_id, rulesets)
        reports = render_tables(settings, batch, run_id)
        return finish_run(settings, run_id, batch, mismatches, reports)
    except BaseException:
        pipeline.fail_run(settings, run_id)
        raise
