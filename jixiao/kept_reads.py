"""A run's read kept on disk beside the warehouse, so a retried flow run need not read again.

Prefect caches what the read task returns by writing it, pickled and base64
encoded, into its own storage: for a province that is hundreds of megabytes
per run, held in memory two or three times over while it is encoded, and
never deleted. The read is kept here instead, as one Arrow IPC file per
table and the departments' facts and findings pickled beside them, in
`<warehouse folder>/.reads/<run id>/`; the read task returns that folder, and
Prefect caches the path. Folders older than a day (longer than any retry of a
run) are removed when a run starts; a run that finishes removes its own.
"""

from __future__ import annotations

import os
import pickle
import shutil
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

from jixiao.frames import TABLES, ReadBatch

DEPARTMENTS = "departments.pickle"


def keep(read: ReadBatch, folder: Path) -> Path:
    """Write `read` into `folder` (replacing what is there) and return the folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    for name, frame in read.frames.items():
        frame.write_ipc(scratch / f"{name}.arrow", compression="uncompressed")
    with (scratch / DEPARTMENTS).open("wb") as f:
        pickle.dump(read.departments, f, protocol=pickle.HIGHEST_PROTOCOL)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(scratch, folder)  # a retry finds the whole read or none of it
    return folder


def load(folder: Path) -> ReadBatch:
    with (folder / DEPARTMENTS).open("rb") as f:
        departments = pickle.load(f)  # written by keep() above, in the warehouse's own folder
    return ReadBatch(departments, {name: pl.read_ipc(folder / f"{name}.arrow") for name in TABLES})


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
