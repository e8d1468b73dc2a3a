"""Reading the year's workbooks while the run's own process is still starting.

`jixiao run` spends its first two to three seconds on one core: importing
Prefect and the flow, starting the flow run, recording the run. The warm pool's
workers started before that (one fewer than the cores, jixiao/parallel.py) have
nothing to do meanwhile, so they read the year's workbooks ahead, newest first,
into a folder beside the kept reads: all of them on a first run, else those
changed since the warehouse was last written (a nightly's few). The read step
then takes each department read ahead whose file is still the one that was read
(same device, inode, size, times and SHA-256 as before and after it was read)
and reads the rest. A department read ahead but not wanted (an input the run
leaves out as unchanged, a workbook changed since) is dropped: it cost a core
that was idle. Nothing read ahead outlives the run.

The workers read in chunks they claim one at a time (a file created with
O_EXCL), so any number of them share the list, and they stop at the next
workbook once the read step (or the end of the run) asks them to. The workers
started later, once Prefect is imported, do not read ahead: they would take
cores from this process, which is then the one the run waits for.
"""

from __future__ import annotations

import functools
import os
import pickle
import shutil
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from jixiao import parallel
from jixiao.extract import Department, read_department
from jixiao.frames import write_rows
from jixiao.read import department_inputs, sha256

CHUNK = 20  # workbooks a worker claims at a time: a tenth of a second of reading
STOP = "stop"


@dataclass
class _Ahead:
    folder: Path
    chunks: list[list[tuple[Path, int]]]
    futures: list[Future] = field(default_factory=list)
    taken: bool = False


_ahead: _Ahead | None = None


@contextmanager
def reading_ahead(year_dir: Path, year: int, reads_dir: Path, warehouse: Path | None = None) -> Iterator[None]:
    """Read the year's workbooks ahead on the warm pool's idle workers while the body runs; a no-op
    without a warm pool. Only those changed since `warehouse` was last written, when it exists: the
    others were most likely loaded, and the run will not read them. The folder read into is removed
    on leaving."""
    global _ahead
    if parallel.warm_workers() == 0 or _ahead is not None:
        yield
        return
    # CSV folders are read as they are: they are rare, and their files change one by one.
    since = _changed(warehouse) if warehouse is not None else 0
    changed = {p: _changed(p) for p in department_inputs(year_dir) if p.is_file()}
    files = sorted((p for p, when in changed.items() if when >= since), key=changed.__getitem__, reverse=True)
    if not files:
        yield
        return
    folder = reads_dir / f".ahead-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    ahead = _Ahead(folder, [[(p, year) for p in files[i:i + CHUNK]] for i in range(0, len(files), CHUNK)])
    _ahead = ahead
    # One reader on each worker started so far: they have a core each while this process is busy alone.
    ahead.futures = [parallel.submit_warm(functools.partial(read_chunks, folder, ahead.chunks))
                     for _ in range(parallel.warm_workers())]
    try:
        yield
    finally:
        _ahead = None
        _stop(ahead)
        shutil.rmtree(folder, ignore_errors=True)


def take(items: Sequence[tuple[int, Path, int]], scratch: Path) -> tuple[list[Department], list[tuple[int, Path, int]]]:
    """Of the (position, path, year) items to read, the departments read ahead of them, their rows moved
    into `scratch` (files `ahead-*.arrow`, out of input order), and the items still to read."""
    ahead = _ahead
    if ahead is None or ahead.taken or not items:
        return [], list(items)
    ahead.taken = True
    _stop(ahead)
    wanted = {item[1]: item for item in items}
    taken: list[Department] = []
    for chunk in sorted(ahead.folder.glob("*.pickle")):
        with chunk.open("rb") as f:
            read = pickle.load(f)  # written by read_chunks below, in this run's own folder
        usable = [(dept, path) for dept, path, year, before in read
                  if path in wanted and wanted[path][2] == year and _fingerprint(path) == before]
        if not usable:
            continue
        files = {dept.file for dept, _ in usable}
        for table_file in ahead.folder.glob(f"*/{chunk.stem}.arrow"):
            target = scratch / table_file.parent.name / f"ahead-{chunk.stem}.arrow"
            target.parent.mkdir(parents=True, exist_ok=True)
            if len(usable) == len(read):
                os.replace(table_file, target)
            else:
                pl.read_ipc(table_file).filter(pl.col("src_file").is_in(files)).write_ipc(
                    target, compression="uncompressed")
        taken.extend(dept for dept, _ in usable)
        for _, path in usable:
            del wanted[path]
    return taken, [item for item in items if item[1] in wanted]


def read_chunks(folder: Path, chunks: list[list[tuple[Path, int]]]) -> int:
    """A worker's part of the reading ahead: each chunk not yet claimed, read, its rows written as
    `<table>/<chunk>.arrow` and its departments (rows dropped) with the fingerprint of the file each
    was read from as `<chunk>.pickle`; until the chunks run out or `folder/stop` appears. Returns how
    many workbooks it read."""
    count = 0
    for number, chunk in enumerate(chunks):
        if (folder / STOP).exists():
            break
        try:
            os.close(os.open(folder / f"{number:06d}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue  # the other worker's
        read = []
        for path, year in chunk:
            if (folder / STOP).exists():
                break
            before = _fingerprint(path)
            dept = read_department(path, year)
            if before is not None and _fingerprint(path) == before:  # not written to while it was read
                read.append((dept, path, year, before))
        count += len(read)
        _write_chunk(folder, f"{number:06d}", read)
    return count


def _write_chunk(folder: Path, stem: str, read: list[tuple[Department, Path, int, tuple]]) -> None:
    if not read:
        return
    write_rows([dept for dept, *_ in read], folder, stem)
    partial = folder / f"{stem}.partial"
    with partial.open("wb") as f:
        pickle.dump(read, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, folder / f"{stem}.pickle")  # take() sees a chunk whole or not at all


def _changed(path: Path) -> int:
    """When a file last changed: copy tools keep the source's mtime, but ctime moves (POSIX)."""
    try:
        stat = path.stat()
    except OSError:  # not there (a first run's warehouse), or gone since listed: the read step will see
        return 0
    return max(stat.st_mtime_ns, stat.st_ctime_ns)


def _fingerprint(path: Path) -> tuple | None:
    """What says a file is the one read: ctime moves with every write on POSIX (copy tools keep
    mtime), and the digest covers a write within the clock's resolution."""
    try:
        stat = path.stat()
        digest = sha256(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, digest


def _stop(ahead: _Ahead) -> None:
    """Ask the readers to stop at their next workbook and wait for them (a chunk at most)."""
    (ahead.folder / STOP).touch()
    wait(ahead.futures)
