"""A load evaluates the models over its own department-years only: the marts must still hold exactly
what the models give over the whole warehouse, after a first load, a partial rerun and a model change."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from jixiao.check.rulesets import load_rulesets
from jixiao.load.warehouse import MATERIALIZED, sql_models
from jixiao.pipeline import check_year, load_batch, new_run_id, read_inputs
from jixiao.settings import PROJECT_ROOT
from jixiao_synth.synth import mutate, synthesize
from tests.conftest import query


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory):
    """Four synthetic departments (their rule sets, layouts and slips vary) over two years."""
    out = tmp_path_factory.mktemp("synth")
    synthesize(out, 4, (2021, 2022), seed=11, broken_share=0, processes=1)
    return out


@pytest.fixture
def raw(synth_set, tmp_path):
    """A copy of the set this test may change."""
    return shutil.copytree(synth_set, tmp_path / "raw")


def load(settings) -> list[str]:
    """The pipeline's read, check and load steps; returns the codes loaded."""
    rulesets = load_rulesets()
    batch = check_year(read_inputs(settings, rulesets))
    load_batch(batch, settings, new_run_id(), rulesets)
    return sorted(d.dept_code for d in batch.accepted)


def differences(settings) -> dict[str, int]:
    """Rows in a materialized model's table but not in its view over the whole warehouse, or the reverse."""
    found = {}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for layer, schema, name, _sql in sql_models(settings.sql_dir):
            if layer in MATERIALIZED:
                table, view = f"{MATERIALIZED[layer]}.{name}", f"{schema}.{name}"
                found[table] = sum(con.execute(f"select count(*) from (from {a} except all from {b})").fetchall()[0][0]
                                   for a, b in ((table, view), (view, table)))
    return found


def rows(settings, table: str, codes: list[str], year: int = 2022) -> list[dict]:
    return query(settings, f"select * exclude (run_id) from {table} where year = ? and list_contains(?, dept_code) "
                           "order by all", [year, codes])


@pytest.mark.slow
def test_a_rerun_of_some_departments_leaves_every_mart_as_its_model_over_the_whole_warehouse(raw, settings_for):
    settings = settings_for(raw, force=True)
    load(settings_for(raw, 2021, force=True))
    everyone = load(settings)
    assert len(everyone) == 4 and set(differences(settings).values()) == {0}
    changed = sorted(Path(p).stem for p in mutate(raw, 0.5, 2022, seed=2, processes=1))  # two of the four
    others = [code for code in everyone if code not in changed]
    before = {t: (rows(settings, t, changed), rows(settings, t, others), query(settings, f"from {t} where year = 2021"))
              for t in differences(settings)}

    assert load(dataclasses.replace(settings, departments=tuple(changed))) == changed

    assert set(differences(settings).values()) == {0}
    for table, (_, other_rows, last_year) in before.items():
        assert rows(settings, table, others) == other_rows, table
        assert query(settings, f"from {table} where year = 2021") == last_year, table
    assert rows(settings, "mart.department_summary", changed) != before["mart.department_summary"][0]
    assert rows(settings, "audit.reconciliation", changed) != before["audit.reconciliation"][0]


def _fingerprints(settings) -> dict[str, str]:
    return {f"{r['schema_name']}.{r['view_name']}": r["comment"] for r in query(
        settings, "select schema_name, view_name, comment from duckdb_views() where not internal")}


def test_views_are_made_again_only_when_their_sql_changed(raw, settings_for):
    settings = settings_for(raw, force=True)
    load(settings)
    first = _fingerprints(settings)
    assert len(first) == 20 and len(set(first.values())) == 1 and None not in first.values()
    tasks = query(settings, "select count(*) as n from raw.tasks")
    # a view that still carries the fingerprint is taken as made from this SQL: left as it is
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create or replace view staging.stg_tasks as select * from raw.tasks where false")
        con.execute(f"comment on view staging.stg_tasks is '{first['staging.stg_tasks']}'")
    load(settings)
    assert query(settings, "select count(*) as n from staging.stg_tasks") == [{"n": 0}]

    with duckdb.connect(str(settings.warehouse)) as con:  # without it, every view is made again
        con.execute("create or replace view staging.stg_tasks as select * from raw.tasks where false")
    load(settings)
    assert _fingerprints(settings) == first
    assert query(settings, "select count(*) as n from staging.stg_tasks") == tasks


def test_a_model_whose_columns_changed_is_rebuilt_whole_and_the_others_replace_the_run_only(raw, settings_for, tmp_path):
    settings = settings_for(raw, force=True)
    everyone = load(settings)
    sql_dir = shutil.copytree(PROJECT_ROOT / "sql", tmp_path / "sql")
    model = sql_dir / "marts" / "task_outcomes.sql"
    model.write_text(model.read_text(encoding="utf-8").replace("    outcome,", "    outcome,\n    length(task) as task_chars,"),
                     encoding="utf-8")
    changed = dataclasses.replace(settings, sql_dir=sql_dir, departments=(everyone[0],))

    assert load(changed) == everyone[:1]

    assert set(differences(changed).values()) == {0}
    chars = query(settings, "select dept_code, count(task_chars) as n from mart.task_outcomes group by all order by 1")
    assert [r["dept_code"] for r in chars] == everyone and all(r["n"] > 0 for r in chars)
    # the models read by this code's views: made again, with the new column
    assert "task_chars" in {c["column_name"] for c in query(
        settings, "select column_name from information_schema.columns where table_name = 'task_outcomes'")}


def test_a_mart_whose_table_no_longer_fits_its_model_is_rebuilt_whole(raw, settings_for):
    settings = settings_for(raw, force=True)
    everyone = load(settings)
    fingerprints = _fingerprints(settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("alter table mart.task_outcomes drop column outcome")

    assert load(dataclasses.replace(settings, departments=(everyone[0],))) == everyone[:1]

    assert set(differences(settings).values()) == {0}
    assert query(settings, "select count(distinct dept_code) as n from mart.task_outcomes where outcome is not null") == [
        {"n": 4}]
    assert _fingerprints(settings) == fingerprints  # the views read by the rebuilt mart were made again, as they were
