"""The yearly run as a Prefect flow: it reads like the pipeline's table of contents."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from flows import outcome
from flows.policies import (
    CACHE_EXPIRATION,
    RETRY_TRANSIENT,
    STEP_TIMEOUT_SECONDS,
    is_transient,
    warehouse_slot,
    workbooks_key,
)
from jixiao import kept_reads, pipeline
from jixiao.changes import settled_workbooks
from jixiao.outputs import FORMATS
from jixiao.rulesets import load_rulesets
from jixiao.settings import Settings

# Departments and frames are not hashable inputs: steps are not cached by input (the read has its own key).
step = task(cache_policy=NONE, timeout_seconds=STEP_TIMEOUT_SECONDS)
# Steps run in a thread beside the drawing (_alongside) have no timeout: Prefect cannot stop a task in a
# thread, and warns on every run that it cannot; the drawing they run beside keeps its own.
side_step = task(cache_policy=NONE)
# Steps that touch the workbooks' files or take the warehouse's lock retry what passes on its own.
transient_step = task(cache_policy=NONE, timeout_seconds=STEP_TIMEOUT_SECONDS, retry_condition_fn=is_transient,
                      **RETRY_TRANSIENT)


@transient_step
def wait_for_workbooks(settings: Settings) -> list[Path]:
    return settled_workbooks(settings.year_dir)


@transient_step
def start_run(settings: Settings, run_id: str) -> bool:
    return pipeline.start_run(settings, run_id, force=settings.force)


# Keyed by the flow run, the workbooks' bytes and the code, so a retried flow run
# reuses the read. What Prefect caches is the folder the read is kept in
# (jixiao/kept_reads.py), not the read: a province's would be hundreds of MB.
@task(cache_key_fn=workbooks_key, cache_expiration=CACHE_EXPIRATION, timeout_seconds=STEP_TIMEOUT_SECONDS)
def read_workbooks(settings: Settings, run_id: str) -> Path:
    kept_reads.prune(settings.reads_dir, CACHE_EXPIRATION)
    with pipeline.stage(settings, run_id, "read") as timing:
        kept, timing["rows"] = pipeline.read_into(settings, run_id, settings.reads_dir / run_id)  # files read
        return kept


@step
def validate_sheets(kept: Path, settings: Settings, rulesets, run_id: str) -> pipeline.Batch:
    with pipeline.stage(settings, run_id, "validate") as timing:
        batch = pipeline.check_departments(kept_reads.load(kept), settings.year, rulesets, settings.ruleset)
        timing["rows"] = sum(frame.height for frame in batch.frames.values())
    return batch


# No retry here: the warehouse's own connect already waits for its lock, and
# a load is not one transaction with its audit rows, so a retry could repeat them.
@step
def load_warehouse(batch: pipeline.Batch, settings: Settings, run_id: str, rulesets):
    with pipeline.stage(settings, run_id, "load") as timing:
        timing["rows"] = sum(frame.height for frame in batch.frames.values())
        return pipeline.load_batch(batch, settings, run_id, rulesets)


@step
def render_tables(settings: Settings, batch: pipeline.Batch, run_id: str, formats: tuple[str, ...]) -> list[Path]:
    with pipeline.stage(settings, run_id, "render") as timing:
        reports = pipeline.draw_reports(settings, batch, run_id, formats)
        timing["rows"] = len(reports)
    return reports


@side_step
def export_parquet(settings: Settings, batch: pipeline.Batch, run_id: str) -> list[Path]:
    with pipeline.stage(settings, run_id, "export") as timing:
        files = pipeline.export_marts(settings, batch)
        timing["rows"] = len(files)
    return files


@side_step
def write_validation_report(settings: Settings, batch: pipeline.Batch, run_id: str) -> list[Path]:
    with pipeline.stage(settings, run_id, "validation_report") as timing:
        files = pipeline.write_validation_report(settings, batch, run_id)
        timing["rows"] = len(batch.findings)
    return files


@step
def finish_run(settings: Settings, run_id: str, batch, mismatches, reports) -> pipeline.RunSummary:
    return pipeline.finish_run(settings, run_id, batch, mismatches, reports)


@step
def publish_artifacts(settings: Settings, summary: pipeline.RunSummary, validation: list[Path]) -> None:
    create_table_artifact(outcome.department_rows(settings, summary.run_id), key=f"jixiao-{summary.year}-departments",
                          description=f"{summary.year} 年度各部门：得分、等级、执行率与校验问题数")
    findings = outcome.finding_rows(settings, summary.run_id)
    create_markdown_artifact(outcome.run_markdown(summary, findings, validation),
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
) -> pipeline.RunSummary:
    settings = Settings(year, Path(raw_dir), Path(warehouse), Path(out_dir), tuple(departments or ()), ruleset, force,
                        formats=None if formats is None else tuple(formats), runner=runner)
    rulesets = load_rulesets()
    run_id = pipeline.new_run_id()
    # One run per warehouse: the file lock queues runs, the Prefect slot shows the writer in the UI.
    with pipeline.writer_lock(settings), warehouse_slot(settings.warehouse):
        wait_for_workbooks(settings)
        if not start_run(settings, run_id):
            return outcome.run_state(pipeline.skipped_run(settings, run_id))
        try:
            kept = _on_runner(read_workbooks, settings, settings, run_id)
            batch = validate_sheets(kept, settings, rulesets, run_id)
            # quote(): Prefect would otherwise walk every row of a district's departments looking
            # for futures in a task's inputs (seconds per task at a few hundred departments).
            mismatches = load_warehouse(quote(batch), settings, run_id, rulesets)
            # The validation pages and the Parquet copies need nothing the drawing makes: they are
            # made while the tables are drawn.
            validation = _alongside(write_validation_report, settings, settings, quote(batch), run_id)
            exported = _alongside(export_parquet, settings, settings, quote(batch), run_id)
            try:
                reports = _on_runner(render_tables, settings, settings, quote(batch), run_id,
                                     FORMATS if settings.formats is None else settings.formats)
            finally:  # waited for even when the drawing fails: the run is not over while they write
                for side_step in (validation, exported):
                    side_step.wait()
            validation, _ = validation.result(), exported.result()
            summary = finish_run(settings, run_id, quote(batch), mismatches, reports)
        except BaseException:
            pipeline.fail_run(settings, run_id)
            raise
    publish_artifacts(settings, summary, validation)
    kept_reads.discard(kept)  # the run is done: no retry will want it
    # Callers get the RunSummary; the flow run ends Completed, or Partial when workbooks were rejected.
    return outcome.run_state(summary)


def _on_runner(step_task, settings: Settings, *args):
    """Reading and drawing fan out from a Dask worker when the flow runs on Dask; elsewhere they run in
    the flow's process (and spread over its cores themselves)."""
    if settings.runner == "dask":
        # quote() does not survive the trip to a Dask worker; the walk it avoids matters less there.
        return step_task.submit(*(a.unquote() if isinstance(a, quote) else a for a in args)).result()
    return step_task(*args)


def _alongside(step_task, settings: Settings, *args):
    """A step begun in a thread of the flow's process, to run beside the next (its future). On Dask it
    runs at once, in the flow's process: a Dask worker may not see the flow's warehouse and files."""
    if settings.runner == "dask":
        return _Ran(step_task(*args))
    return step_task.submit(*args)


class _Ran:
    """A step's result in hand, with the two methods of the future _alongside gives otherwise."""

    def __init__(self, value):
        self.value = value

    def wait(self) -> None:
        pass

    def result(self):
        return self.value


def with_dask(address: str | None = None, workers: int = 2):
    """run_year on a Dask cluster: the cluster at `address`, else a local one of `workers` processes.

    Reading and drawing fan out over the cluster in chunks (prefect-dask); the load
    stays one transaction in one process, as DuckDB has one writer.
    """
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=address) if address else DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    return run_year.with_options(task_runner=runner)
