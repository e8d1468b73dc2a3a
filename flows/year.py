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
def start_run(settings: Settings, run_id: str) -> bool:
    return pipeline.start_run(settings, run_id, force=settings.force)


@step
def read_workbooks(settings: Settings, run_id: str) -> list[pipeline.Department]:
    with pipeline.stage(settings, run_id, "read") as timing:
        departments = pipeline.read_departments(settings)
        timing["rows"] = len(departments)
    return departments


@step
def validate_sheets(departments, settings: Settings, rulesets, run_id: str) -> pipeline.Batch:
    with pipeline.stage(settings, run_id, "validate") as timing:
        batch = pipeline.check_departments(departments, settings.year, rulesets, settings.ruleset)
        timing["rows"] = sum(frame.height for frame in batch.frames.values())
    return batch


@step
def load_warehouse(batch: pipeline.Batch, settings: Settings, run_id: str, rulesets):
    with pipeline.stage(settings, run_id, "load") as timing:
        timing["rows"] = sum(frame.height for frame in batch.frames.values())
        return pipeline.load_batch(batch, settings, run_id, rulesets)


@step
def render_tables(settings: Settings, batch: pipeline.Batch, run_id: str) -> list[Path]:
    with pipeline.stage(settings, run_id, "render") as timing:
        reports = pipeline.draw_reports(settings, batch, run_id)
        timing["rows"] = len(reports)
    return reports


@step
def export_parquet(settings: Settings, batch: pipeline.Batch, run_id: str) -> list[Path]:
    with pipeline.stage(settings, run_id, "export") as timing:
        files = pipeline.export_marts(settings, batch)
        timing["rows"] = len(files)
    return files


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
    force: bool = False,
) -> pipeline.RunSummary:
    settings = Settings(year, Path(raw_dir), Path(warehouse), Path(out_dir), tuple(departments or ()), ruleset, force)
    rulesets = load_rulesets()
    run_id = pipeline.new_run_id()
    with pipeline.writer_lock(settings):
        if not start_run(settings, run_id):
            return pipeline.skipped_run(settings, run_id)
        try:
            found = read_workbooks(settings, run_id)
            batch = validate_sheets(found, settings, rulesets, run_id)
            mismatches = load_warehouse(batch, settings, run_id, rulesets)
            reports = render_tables(settings, batch, run_id)
            export_parquet(settings, batch, run_id)
            return finish_run(settings, run_id, batch, mismatches, reports)
        except BaseException:
            pipeline.fail_run(settings, run_id)
            raise
