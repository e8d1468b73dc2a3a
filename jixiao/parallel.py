"""Spreading per-department work (reading, drawing) over the machine's cores.

Worker processes are started with spawn: a forked child of a process that has
run polars can deadlock. Starting a worker costs about a second (imports), so
small batches stay in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 150  # below this a pool costs more than it saves


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


def each_chunk(fn: Callable[[Sequence[T]], R], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """fn over chunks of items, one result per chunk, in order; fn must be a module-level function
    (it is pickled). In-process, the items are one chunk."""
    count = workers()
    if count < 2 or len(items) < MIN_ITEMS or not _spawnable():
        return [fn(items)]
    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, chunks))


def map_chunks(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """fn over chunks of items, its lists joined in order."""
    return [result for part in each_chunk(fn, items, chunk=chunk) for result in part]


def dask_each_chunk(fn: Callable[[Sequence[T]], R], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """each_chunk on the Dask cluster of the running flow (prefect-dask's DaskTaskRunner)."""
    from prefect_dask import get_dask_client

    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    if not chunks:
        return []
    with get_dask_client() as client:
        return client.gather(client.map(fn, chunks, pure=False))


def dask_chunks(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], *, chunk: int = 50) -> list[R]:
    """map_chunks on the Dask cluster of the running flow."""
    return [result for part in dask_each_chunk(fn, items, chunk=chunk) for result in part]
