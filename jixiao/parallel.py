"""Spreading per-department work (reading, drawing) over the machine's cores.

Worker processes are started with spawn: a forked child of a process that has
run polars can deadlock. Starting a worker costs about half a second of imports,
so without a warm pool small batches stay in-process. `jixiao run` starts a warm
pool (warm_pool): one worker fewer than the cores before it imports Prefect, so
that worker's imports run on a core that is otherwise idle, and the last once
Prefect is imported (fill_warm_pool). Every batch of the run, however small,
then uses them.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 150  # below this a pool started for the batch costs more than it saves
# What the run's workers use, imported as a warm pool starts: reading, and drawing unless the run draws nothing.
READING_MODULES = ("jixiao.frames", "jixiao.read_ahead")
DRAWING_MODULES = ("jixiao.outputs",)

_warm: ProcessPoolExecutor | None = None
_warm_started = 0


def workers() -> int:
    """JIXIAO_WORKERS, else the cores this process may use."""
    if value := os.environ.get("JIXIAO_WORKERS"):
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _spawnable() -> bool:
    """A spawned worker re-imports the main script; code piped to python (<stdin>) cannot be."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or Path(path).is_file()


def _start_worker(modules: Sequence[str]) -> None:
    """A worker's initializer: it leaves with the process that started it, and imports what it will run."""
    _exit_with_parent()
    for name in modules:
        importlib.import_module(name)


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


@contextmanager
def warm_pool(drawing: bool = True) -> Iterator[None]:
    """Worker processes used by every each_chunk inside, whatever its size; stopped on leaving.

    One fewer than the cores start now, so that they do not slow the starting process
    down; fill_warm_pool, or a batch of MIN_ITEMS or more, starts the last one.
    Nothing is started when this machine has one core for us or cannot spawn. `drawing`=False (a run
    that draws nothing) spares the workers the drawing's imports."""
    global _warm, _warm_started
    count = workers()
    if count < 2 or _warm is not None or not _spawnable():
        yield
        return
    # A run that draws nothing spares each worker the drawing's imports (great-tables, xlsxwriter, docx: 0.3 s).
    modules = READING_MODULES + (DRAWING_MODULES if drawing else ())
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                               initargs=(modules,))
    # A spawn pool starts a process for each submission that finds none idle.
    _warm_started = count - 1
    for _ in range(_warm_started):
        pool.submit(os.getpid)
    _warm = pool
    try:
        yield
    finally:
        _warm = None
        _stop(pool)


def warm_workers() -> int:
    """How many workers the warm pool has started (0: no warm pool)."""
    return _warm_started if _warm is not None else 0


def submit_warm(fn: Callable[[], R]) -> Future | None:
    """fn on a worker of the warm pool, if there is one (its future), else None."""
    return _warm.submit(fn) if _warm is not None else None


def fill_warm_pool() -> None:
    """Start the warm pool's last workers, once the process's own imports are done: a district's
    batch then finds them all started."""
    global _warm_started
    if _warm is None:
        return
    # Each submission that finds no worker idle starts one; the sleep keeps those already started busy.
    for _ in range(workers()):
        _warm.submit(time.sleep, 0.1)
    _warm_started = workers()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop idle workers at once: left to exit on their own, their interpreters take 0.4 s to tear down."""
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
        return
    for process in list((pool._processes or {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)  # its manager thread joins them


def start_chunks(fn: Callable[[Sequence[T]], R], items: Sequence[T], *, chunk: int = 50) -> Callable[[], list[R]]:
    """each_chunk begun now: the workers get the chunks at once, and calling what is returned waits for
    their results, in order (in-process, it runs fn then). Call it, or a pool started here lives on."""
    if _warm is not None and items:
        # A small batch (a nightly's ten workbooks) goes to the workers already started, leaving
        # this process free for what it does meanwhile; a large one to all of them.
        size = chunk if len(items) >= MIN_ITEMS else math.ceil(len(items) / _warm_started)
        results = _warm.map(fn, [items[i:i + size] for i in range(0, len(items), size)])
        return lambda: list(results)
    count = workers()
    if count < 2 or len(items) < MIN_ITEMS or not _spawnable():
        return lambda: [fn(items)]
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent)
    results = pool.map(fn, [items[i:i + chunk] for i in range(0, len(items), chunk)])

    def finish() -> list[R]:
        try:
            return list(results)
        finally:
            _stop(pool)

    return finish


def each_chunk(fn: Callable[[Sequence[T]], R], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """fn over chunks of items, one result per chunk, in order; fn must be a module-level function
    (it is pickled). In-process, the items are one chunk."""
    return start_chunks(fn, items, chunk=chunk)()


def dask_each_chunk(fn: Callable[[Sequence[T]], R], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """each_chunk on the Dask cluster of the running flow (prefect-dask's DaskTaskRunner)."""
    from prefect_dask import get_dask_client

    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    if not chunks:
        return []
    with get_dask_client() as client:
        return client.gather(client.map(fn, chunks, pure=False))


def dask_chunks(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """fn over chunks of items on the Dask cluster of the running flow, its lists joined in order."""
    return [result for part in dask_each_chunk(fn, items, chunk=chunk) for result in part]
