"""Spreading per-department work (reading, drawing) over the machine's cores or a Dask cluster.

A step that fans out opens one pool for itself (`pool_for`) and hands it to
the function that maps over chunks: a process pool of this machine's cores, the
Dask cluster of a flow run on prefect-dask, or no pool at all when the batch is
too small to pay for starting one. The choice is made here, from the run's
runner, and nowhere else.

Worker processes are started with spawn: a forked child of a process that has
run polars can deadlock. Starting a worker costs about half a second of imports.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 150  # below this a pool started for the batch costs more than it saves


class Pool(Protocol):
    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]: ...


class InProcess:
    """No pool: the chunks run one after the other in this process."""

    def map(self, fn, items):
        return map(fn, items)


class DaskPool:
    """The Dask cluster of the running flow (prefect-dask's DaskTaskRunner)."""

    def __init__(self, client) -> None:
        self.client = client

    def map(self, fn, items):
        return iter(self.client.gather(self.client.map(fn, list(items), pure=False))) if items else iter(())


def workers() -> int:
    """JIXIAO_WORKERS, else the cores this process may use."""
    if value := os.environ.get("JIXIAO_WORKERS"):
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextmanager
def pool_for(runner: str, items: int) -> Iterator[Pool]:
    """The pool a step with `items` to spread uses; stopped when the step leaves."""
    if runner == "dask":
        from prefect.context import FlowRunContext

        # The flow run's DaskTaskRunner holds the cluster's client; steps run in the flow's process,
        # where prefect_dask.get_dask_client finds none inside a task run (it looks for a worker's).
        yield DaskPool(FlowRunContext.get().task_runner.client)
        return
    count = workers()
    if count < 2 or items < MIN_ITEMS or not _spawnable():
        yield InProcess()
        return
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent)
    try:
        yield pool
    finally:
        _stop(pool)


def map_chunks(pool: Pool, fn: Callable[[Sequence[T]], R], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """fn over chunks of items, one result per chunk, in order; fn must be a module-level function
    (it is pickled). In-process, the items are one chunk."""
    if isinstance(pool, InProcess):
        return [fn(items)] if items else []
    return list(pool.map(fn, [items[i:i + chunk] for i in range(0, len(items), chunk)]))


def _spawnable() -> bool:
    """A spawned worker re-imports the main script; code piped to python (<stdin>) cannot be."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or Path(path).is_file()


def _exit_with_parent() -> None:
    """End this worker when its parent ends. A run killed outright (SIGKILL, the OOM killer, a
    cancelled deployment) would otherwise leave its workers waiting for work for ever: each holds
    its own task queue's write end as well, so it never sees that queue close."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="jixiao-parent-watch", daemon=True).start()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop idle workers at once: left to exit on their own, their interpreters take 0.4 s to tear down."""
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
        return
    for process in list((pool._processes or {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)  # its manager thread joins them
