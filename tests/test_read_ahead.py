"""Reading ahead while `jixiao run` starts: what the read step takes from it is what it would have read."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import wait
from pathlib import Path

from jixiao import kept_reads, parallel, pipeline, read_ahead
from jixiao.settings import Settings
from jixiao.synth import mutate, synthesize
from tests.conftest import SEED_WORKBOOK


def _read(settings: Settings, folder: Path):
    kept, count = pipeline.read_into(settings, None, folder)
    return kept_reads.load(kept), count


def test_the_read_step_takes_what_was_read_ahead_and_reads_again_what_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    raw = tmp_path / "raw"
    synthesize(raw, 45, 2022, seed=3, broken_share=0.1, processes=1)  # three chunks, some workbooks rejected
    settings = Settings(2022, raw, tmp_path / "w" / "jixiao.duckdb", tmp_path / "reports")
    year_dir = settings.year_dir

    with parallel.warm_pool(), read_ahead.reading_ahead(year_dir, 2022, settings.reads_dir):
        ahead_folder = read_ahead._ahead.folder
        done, _ = wait(read_ahead._ahead.futures, timeout=120)  # every workbook read ahead
        assert done and sum(f.result() for f in done) == 45
        # Then, before the read step, departments correct their workbooks, one is withdrawn, one arrives.
        changed = mutate(raw, 0.05, 2022, seed=9, processes=1)
        assert len(changed) == 2
        withdrawn = next(p for p in sorted(year_dir.glob("*.xlsx")) if str(p) not in changed)
        withdrawn.unlink()
        shutil.copy(SEED_WORKBOOK, year_dir / SEED_WORKBOOK.name)
        ahead, count = _read(settings, tmp_path / "ahead")
    assert not ahead_folder.exists()  # nothing read ahead outlives the run

    plain, plain_count = _read(settings, tmp_path / "plain")  # no warm pool: nothing read ahead
    assert count == plain_count == 45
    taken = {p.name for p in (tmp_path / "ahead").glob("*/ahead-*.arrow")}
    assert taken, "the read step took nothing from the reading ahead"
    assert ahead.departments == plain.departments
    assert ahead.frames.keys() == plain.frames.keys()
    for name, frame in plain.frames.items():
        assert ahead.frames[name].equals(frame), name
    # The changed workbooks carry their new figures, which the reading ahead had not seen.
    budgets = dict(plain.frames["departments"].select("src_file", "budget_yuan").iter_rows())
    assert all(Path(path).name in budgets for path in changed)
    assert withdrawn.name not in budgets and SEED_WORKBOOK.name in budgets


def test_a_run_that_reads_nothing_stops_the_readers_and_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    raw = tmp_path / "raw"
    synthesize(raw, 60, 2022, seed=4, processes=1)
    reads_dir = tmp_path / "reads"
    with parallel.warm_pool(), read_ahead.reading_ahead(raw / "2022", 2022, reads_dir):
        futures = list(read_ahead._ahead.futures)
        first_chunk = read_ahead._ahead.folder / "000000.pickle"
        deadline = time.monotonic() + 60
        while not first_chunk.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert first_chunk.exists()
    # Left while reading (a skipped run): the reader stopped at its next workbook, before reading them all.
    assert all(f.done() for f in futures) and sum(f.result() for f in futures) < 60
    assert list(reads_dir.iterdir()) == []


def test_only_the_workbooks_changed_since_the_warehouse_was_written_are_read_ahead(tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    raw = tmp_path / "raw"
    synthesize(raw, 30, 2022, seed=6, processes=1)
    warehouse = tmp_path / "w" / "jixiao.duckdb"
    warehouse.parent.mkdir()
    warehouse.write_bytes(b"")  # the last run's write; then two departments correct their workbooks
    time.sleep(0.01)
    changed = {Path(p).name for p in mutate(raw, 0.05, 2022, seed=1, processes=1)}
    with parallel.warm_pool(), read_ahead.reading_ahead(raw / "2022", 2022, tmp_path / "reads", warehouse):
        ahead = read_ahead._ahead
        done, _ = wait(ahead.futures, timeout=120)
        assert sum(f.result() for f in done) == len(changed) == 2
        assert {path.name for chunk in ahead.chunks for path, _ in chunk} == changed


def test_without_a_warm_pool_nothing_is_read_ahead(tmp_path):
    raw = tmp_path / "raw"
    synthesize(raw, 2, 2022, seed=5, processes=1)
    with read_ahead.reading_ahead(raw / "2022", 2022, tmp_path / "reads"):
        assert read_ahead._ahead is None
    assert not (tmp_path / "reads").exists()
