"""A run's read kept on disk beside the warehouse, so a retried flow run need not read again.

Prefect caches what the read task returns by writing it, pickled and base64
encoded, into its own storage: for a province that is hundreds of megabytes
per run, held in memory two or three times over while it is encoded, and
never deleted. The read is kept here instead: the reading processes write
each chunk's rows as Arrow IPC files (`<table>/<position>.arrow`), and the
departments' facts and findings are pickled beside them, in
`<warehouse folder>/.reads/<run id>/`; the read task returns that folder, and
Prefect caches the path. The run's process never holds a province's rows while
it reads, only when it validates them. Folders older than a day (longer than any retry of a
run) are removed when a run starts; a run that finishes removes its own.
"""

from __future__ import annotations

import os
import pickle
import shutil
import time
from datetime import timedelta
from pathlib import Path

from jixiao.extract import Department
from jixiao.frames import ReadBatch, read_frames

DEPARTMENTS = "departments.pickle"


def scratch(folder: Path) -> Path:
    """An empty folder beside `folder` for the reading processes to write their chunks' rows into."""
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    return partial


def keep(departments: list[Department], partial: Path, folder: Path, only_files: set[str] | None = None,
         positions: dict[str, int] | None = None) -> Path:
    """Finish a read: the departments beside their rows in `partial`, which becomes `folder`.

    `only_files`: the --dept filter left these inputs' departments; the other rows on disk are not theirs.
    `positions`: each input's place in the year's order, when the rows on disk are not in it (read ahead)."""
    with (partial / DEPARTMENTS).open("wb") as f:
        pickle.dump({"departments": departments, "only_files": only_files, "positions": positions}, f,
                    protocol=pickle.HIGHEST_PROTOCOL)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)  # a retry finds the whole read or none of it
    return folder


def load(folder: Path) -> ReadBatch:
    with (folder / DEPARTMENTS).open("rb") as f:
        kept = pickle.load(f)  # written by keep() above, in the warehouse's own folder
    frames = read_frames(folder, kept["only_files"], kept.get("positions"))
    return ReadBatch(kept["departments"], frames)


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def prune(root: Path, older_than: timedelta) -> None:
    """Remove kept reads (and half-written ones) older than `older_than`."""
    if not root.is_dir():
        return
    cutoff = time.time() - older_than.total_seconds()
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
