"""The yearly run as a Prefect flow: it reads like the pipeline's table of contents.

Every step is one call of a plain function in jixiao/; `step` makes it a
Prefect task and times it into audit.run_stages. Which machines the reading and
drawing spread over is the task runner's choice (`with_dask`), made once,
outside the flow body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE

from flows import outcome
from flows.policies import RETRY_TRANSIENT, STEP_TIMEOUT_SECONDS, is_transient
from jixiao import pipeline
from jixiao.check.rulesets import RuleSets, load_rulesets
from jixiao.load.changes import settled_workbooks
from jixiao.publish.outputs import FORMATS
from jixiao.settings import Settings


def step(stage: str | None = None, rows: Callable[..., int] | None = None, *, transient: bool = False):
    """A step of the year: a Prefect task (no cache: its inputs are not hashable; a timeout), timed as
    `stage` into audit.run_stages with `rows(result, *step arguments after the run id)` rows. `transient`: retried when what failed passes
    on its own (a workbook being copied, the warehouse held by another run)."""
    retry = {"retry_condition_fn": is_transient, **RETRY_TRANSIENT} if transient else {}

    def wrap(fn):
        @functools.wraps(fn)
        def timed(settings: Settings, run_id: str, *args):
            if stage is None:
                return fn(settings, run_id, *args)
            with pipeline.stage(settings, run_id, stage) as timing:
                result = fn(settings, run_id, *args)
                timing["rows"] = rows(result, *args) if rows else None
            return result
        return task(timed, cache_policy=NONE, timeout_seconds=STEP_TIMEOUT_SECONDS, **retry)
    return wrap


@step(transient=True)
def wait_for_workbooks(settings: Settings, run_id: str) -> list[Path]:
    return settled_workbooks(settings.year_dir)


@step(transient=True)
def start_run(settings: Settings, run_id: str) -> bool:
    return pipeline.start_run(settings, run_id, force=settings.force)


@step("read", rows=lambda batch, *_: batch.files)  # inputs read, each checked on its own and staged
def read_workbooks(settings: Settings, run_id: str, rulesets: RuleSets) -> pipeline.Batch:
    return pipeline.read_inputs(settings, rulesets, run_id)


@step("validate", rows=lambda batch, *_: batch.staging.rows)  # checks across the year's inputs
def validate_year(settings: Settings, run_id: str, batch: pipeline.Batch) -> pipeline.Batch:
    return pipeline.check_year(batch)


# No retry here: the warehouse's own connect already waits for its lock, and
# a load is not one transaction with its audit rows, so a retry could repeat them.
@step("load", rows=lambda loaded, *_: loaded[1])  # rows the batch held
def load_warehouse(settings: Settings, run_id: str, batch: pipeline.Batch, rulesets: RuleSets):
    return pipeline.load_batch(batch, settings, run_id, rulesets)


@step("validation_report", rows=lambda files, batch: len(batch.findings))
def write_validation_report(settings: Settings, run_id: str, batch: pipeline.Batch) -> list[Path]:
    return pipeline.write_validation_report(settings, batch, run_id)


@step("export", rows=lambda files, batch: len(files))
def export_parquet(settings: Settings, run_id: str, batch: pipeline.Batch) -> list[Path]:
    return pipeline.export_marts(settings, batch)


@step("render", rows=lambda reports, batch: len(reports))
def render_tables(settings: Settings, run_id: str, batch: pipeline.Batch) -> list[Path]:
    return pipeline.draw_reports(settings, batch, run_id, FORMATS if settings.formats is None else settings.formats)


@step()
def finish_run(settings: Settings, run_id: str, batch, mismatches, reports) -> pipeline.RunSummary:
    return pipeline.finish_run(settings, run_id, batch, mismatches, reports)


@step()
def publish_artifacts(settings: Settings, run_id: str, summary: pipeline.RunSummary, validation: list[Path]) -> None:
    create_table_artifact(outcome.department_rows(settings, run_id), key=f"jixiao-{summary.year}-departments",
                          description=f"{summary.year} 年度各部门：得分、等级、执行率与校验问题数")
    create_markdown_artifact(outcome.run_markdown(summary, outcome.finding_rows(settings, run_id), validation),
                             key=f"jixiao-{summary.year}-reports", description=f"{summary.year} 年度报告与校验问题")


@flow(name="jixiao-year", flow_run_name="jixiao-{year}", log_prints=True)
def run_year(
    year: int,
    raw_dir: Path = Path("raw"),
    warehouse: Path = Path("warehouse/jixiao.duckdb"),
    out_dir: Path = Path("warehouse/reports"),
    departments: list[str] | None = None,
    ruleset: str | None = None,
    force: bool = False,
    formats: list[str] | None = None,  # html, png, xlsx, docx; None: all, []: draw nothing
    runner: str = "local",  # "dask" when the flow runs with a DaskTaskRunner (see with_dask)
    rules_file: Path | None = None,  # a bureau's own rule sets (docs/rule-sets.md)
) -> pipeline.RunSummary:
    settings = Settings(year, Path(raw_dir), Path(warehouse), Path(out_dir), tuple(departments or ()), ruleset, force,
                        formats=None if formats is None else tuple(formats), runner=runner,
                        rules_file=None if rules_file is None else Path(rules_file))
    rulesets = load_rulesets(extra=settings.rules_file)
    run_id = pipeline.new_run_id()
    with pipeline.writer_lock(settings):  # one run per warehouse: the file lock queues them
        wait_for_workbooks(settings, run_id)
        if not start_run(settings, run_id):
            return outcome.run_state(pipeline.skipped_run(settings, run_id))
        try:
            batch = validate_year(settings, run_id, read_workbooks(settings, run_id, rulesets))
            mismatches, _ = load_warehouse(settings, run_id, batch, rulesets)
            reports = render_tables(settings, run_id, batch)  # a drawing that fails is a finding of its own
            validation = write_validation_report(settings, run_id, batch)
            export_parquet(settings, run_id, batch)
            summary = finish_run(settings, run_id, batch, mismatches, reports)
        except BaseException:
            pipeline.fail_run(settings, run_id)
            raise
    publish_artifacts(settings, run_id, summary, validation)
    # Callers get the RunSummary; the flow run ends Completed, or Partial when workbooks were rejected.
    return outcome.run_state(summary)


def with_dask(address: str | None = None, workers: int = 2):
    """run_year on a Dask cluster: the cluster at `address`, else a local one of `workers` processes.

    Reading and drawing fan out over the cluster in chunks (jixiao/parallel.py); the
    load stays one transaction in the flow's process, as DuckDB has one writer.
    """
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=address) if address else DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    return run_year.with_options(task_runner=runner)
