"""A run reads, checks and stages its inputs a block at a time (jixiao/load/staging.py): what it finds,
quarantines and loads must not depend on which inputs were checked together, and staged rows never
outlive their run."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from jixiao import pipeline
from jixiao.check.rulesets import load_rulesets
from jixiao.load.staging import staging_root
from jixiao.settings import Settings
from jixiao_synth.project_forms import synth_project_forms
from jixiao_synth.synth import synthesize

TABLES = ("audit.validation_issues", "audit.quarantine", "raw.indicators", "mart.department_summary",
          "mart.project_evaluation", "mart.project_indicator_score")


@pytest.fixture(scope="module")
def year_set(tmp_path_factory):
    """Departments (a third broken) and project forms of 2022, with one department workbook and one
    workbook of forms filed twice: their identities clash across blocks."""
    raw = tmp_path_factory.mktemp("staging")
    synthesize(raw, 6, 2022, seed=5, broken_share=0.34, processes=1)
    year_dir = raw / "2022"
    forms = synth_project_forms(raw / "made", 2022, 12, seed=5)
    for path in forms:
        shutil.move(path, year_dir / path.name)
    shutil.copy(sorted(year_dir.glob("D*.xlsx"))[0], year_dir / "Z-重复部门.xlsx")
    shutil.copy(year_dir / forms[0].name, year_dir / "Z-重复项目.xlsx")
    return raw


def run(raw, tmp_path, monkeypatch, block: int) -> tuple[dict, pipeline.Batch, Settings]:
    """Read, check and load the year with blocks of `block` inputs; returns every table's rows (run ids aside)."""
    monkeypatch.setattr(pipeline, "BLOCK", block)
    folder = tmp_path / f"block{block}"
    settings = Settings(2022, raw, folder / "jixiao.duckdb", folder / "reports", force=True, formats=())
    rulesets = load_rulesets()
    run_id = pipeline.new_run_id()
    pipeline.start_run(settings, run_id, force=True)
    batch = pipeline.check_year(pipeline.read_inputs(settings, rulesets, run_id))
    assert batch.staging.blocks == -(-batch.files // block) if block < batch.files else batch.staging.blocks == 1
    pipeline.load_batch(batch, settings, run_id, rulesets)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        rows = {}
        for table in TABLES:
            columns = [c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()
                       if c != "run_id"]
            rows[table] = con.execute(f"select {', '.join(columns)} from {table} order by all").fetchall()
    return rows, batch, settings


def test_blocks_of_any_size_find_quarantine_and_load_alike(year_set, tmp_path, monkeypatch):
    whole, batch, settings = run(year_set, tmp_path, monkeypatch, 10_000)
    in_threes, _, _ = run(year_set, tmp_path, monkeypatch, 3)
    assert {"basic.dept_code_duplicate", "project.duplicate"} <= {f.rule for f in batch.findings}
    assert whole["audit.quarantine"] and whole["mart.department_summary"] and whole["mart.project_evaluation"]
    for table in TABLES:
        assert in_threes[table] == whole[table], table
    # loaded, the staged rows are gone; the folder of staged rows is the run's alone
    assert not batch.staging.folder.exists()
    assert not any(staging_root(settings.warehouse).iterdir())


def test_a_run_removes_the_staged_rows_of_ended_runs_and_nothing_else(year_set, tmp_path):
    settings = Settings(2022, year_set, tmp_path / "jixiao.duckdb", tmp_path / "reports", force=True, formats=())
    killed = pipeline.new_run_id()
    pipeline.start_run(settings, killed, force=True)
    batch = pipeline.read_inputs(settings, load_rulesets(), killed)
    assert list(batch.staging.folder.glob("*/*.parquet"))  # ... and here the process is killed
    other = staging_root(settings.warehouse) / "not-a-run"
    other.mkdir()
    pipeline.start_run(settings, pipeline.new_run_id(), force=True)  # marks the killed run interrupted
    assert not batch.staging.folder.exists()
    assert other.is_dir()


def test_an_unknown_department_leaves_nothing_staged(year_set, tmp_path):
    settings = Settings(2022, year_set, tmp_path / "jixiao.duckdb", tmp_path / "reports", ("NOPE",), force=True)
    with pytest.raises(pipeline.UnknownDepartments):
        pipeline.read_inputs(settings, load_rulesets(), pipeline.new_run_id())
    root = staging_root(settings.warehouse)
    assert not root.exists() or not any(root.iterdir())
