"""The nightly deployment: every year whose workbooks changed, or one year on demand.

`jixiao serve` registers and serves `nightly_deployment()`; `prefect.yaml`
offers the same flow for a process work pool. Reruns go through the same
deployment: `prefect deployment run 'jixiao-nightly/nightly' --param year=2022`.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron
from prefect.states import State

from flows import outcome
from flows.year import run_year
from jixiao.load.changes import DueYear, due_years

DEPLOYMENT = "nightly"
CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"


@task(cache_policy=NONE)
def find_changed_years(raw_dir: Path, warehouse: Path) -> list[DueYear]:
    due = due_years(Path(raw_dir), Path(warehouse))
    for item in due:
        print(f"{item.year}：{item.reason}")
    return due


@task(cache_policy=NONE)
def publish_nightly(rows: list[dict]) -> None:
    if rows:
        create_table_artifact(rows, key="jixiao-nightly", description="本次定时运行处理的年度")


@flow(name="jixiao-nightly", log_prints=True)
def nightly(
    year: int | None = None,
    raw_dir: Path = Path("raw"),
    warehouse: Path = Path("warehouse/jixiao.duckdb"),
    out_dir: Path = Path("warehouse/reports"),
    force: bool = False,
    formats: list[str] | None = None,
) -> State:
    """Without `year`: each year under raw/ whose workbooks changed since its last finished run.
    With `year`: that year (unchanged inputs are skipped unless `force`). `formats` as for `jixiao run`."""
    if year is None:
        due = find_changed_years(raw_dir, warehouse)
    else:
        due = [DueYear(year, "按参数指定")]
    states = [run_year(item.year, raw_dir, warehouse, out_dir, force=force, formats=formats, return_state=True)
              for item in due]
    # Rows, not states: Prefect would resolve states passed to a task into their results.
    publish_nightly(outcome.nightly_rows(due, states))
    return outcome.nightly_state(due, states)


def nightly_deployment(raw_dir: Path, warehouse: Path, out_dir: Path, cron: str = CRON) -> RunnerDeployment:
    """The deployment `jixiao serve` serves: the cron in Asia/Shanghai time, absolute paths as parameters."""
    return nightly.to_deployment(
        name=DEPLOYMENT,
        schedules=[Cron(cron, timezone=TIMEZONE)],
        parameters={"raw_dir": str(Path(raw_dir).resolve()), "warehouse": str(Path(warehouse).resolve()),
                    "out_dir": str(Path(out_dir).resolve())},
        description="绩效自评：每晚处理工作簿有变化的年度；指定 year 参数则重新运行该年度。",
        tags=["jixiao"],
        # The module path, not a file path: runs load the flow from the installed
        # package whatever directory the serve process was started in.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
