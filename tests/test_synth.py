"""The synthetic workbooks of `jixiao synth`: deterministic, loadable, broken where the manifest says.

Expected figures are recomputed here in plain Decimal arithmetic from the
numbers the generator drew (its `Figure`s and the book's amounts), not from
what the pipeline read.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal as D
from pathlib import Path

import pytest

from flows.year import run_year
from jixiao.ingest.sheets import REPORTED_KEYS, strip_unit_suffix
from jixiao.publish.display import fmt_percent
from jixiao.settings import Settings
from jixiao_synth.synth import BROKEN_KINDS, SynthManifest, build_department, mutate, synthesize
from tests.conftest import query

ITEMS = {"部门整体绩效目标产出指标完成情况": ("产出指标",), "部门整体绩效目标效益指标完成情况": ("效益指标", "满意度指标")}


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.xlsx"))}


def _yuan(value) -> D:
    return D(str(value)) * 10000


def _awarded(points: D) -> D:
    """A score as awarded: two decimals, half up."""
    return points.quantize(D("0.01"), rounding="ROUND_HALF_UP")


def _shown(rate: D) -> D:
    return D(fmt_percent(rate).rstrip("%")) / 100


def expected(seed: int, index: int, year: int) -> dict:
    """A good department's figures from the generator's own numbers."""
    dept = build_department(seed, index, year)
    book, figures = dept.book, dept.figures
    budget = _yuan(next(v for k, v in book.info.items() if k.startswith("全年预算数")))
    spent = _yuan(next(v for k, v in book.info.items() if k.startswith("财政拨款支出")))
    execution = spent / budget
    rates = {f.name: (f.actual / f.target if f.kind == "higher" else f.target / f.actual)
             for f in figures if f.kind in ("higher", "lower")}
    applicable = [f for f in figures if f.kind != "not_applicable"]
    shown = [_shown(rates[f.name]) for f in applicable if f.name in rates]
    score = D(0)
    for item in book.score_items:
        weight = D(str(item.weight))
        counted = [f for f in applicable if f.level1 in ITEMS.get(item.name, ())]
        if item.name == "部门预算资金支出率":
            use = next((f for f in figures if f.name == "预算经费使用率"), None)
            score += _awarded(weight * min(use.actual / 100 if use else execution, D(1)))
        elif counted and dept.ruleset == "proportional":
            parts = [(f.weight or D(1), min(rates[f.name], D(1)) if f.name in rates else D(int(bool(f.met))))
                     for f in counted]
            score += _awarded(weight * sum(w * r for w, r in parts) / sum(w for w, _ in parts))
        elif counted:
            met = sum(_shown(rates[f.name]) >= 1 if f.name in rates else bool(f.met) for f in counted)
            score += _awarded(weight * met / len(counted))
        else:
            score += D(str(item.score))
    return {
        "execution_rate": execution,
        "project_budget_yuan": sum(_yuan(p.budget) for p in book.projects),
        "project_spent_yuan": sum(_yuan(p.spent) for p in book.projects),
        "indicators_total": len(applicable),
        "indicators_ge_100": sum(r >= 1 for r in shown),
        "indicators_90_100": sum(D("0.9") <= r < 1 for r in shown),
        "indicators_lt_90": sum(r < D("0.9") for r in shown),
        "indicators_qualitative": sum(f.kind == "qualitative" for f in figures),
        "total_score": score,
        "rates": rates,
    }


def test_same_seed_same_bytes_and_departments_keep_their_codes_across_years(tmp_path):
    first = synthesize(tmp_path / "a", 6, [2021, 2022], seed=7, broken_share=0.34, processes=1)
    second = synthesize(tmp_path / "b", 6, [2021, 2022], seed=7, broken_share=0.34, processes=1)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    assert len(_hashes(tmp_path / "a")) == 12
    assert [f.path for f in first.files] == [f.path for f in second.files]
    assert [f.broken for f in first.files] == [f.broken for f in second.files]
    assert {f.dept_code for f in first.for_year(2021)} == {f.dept_code for f in first.for_year(2022)}
    # the same department in two years: same name and projects, numbers drifted
    d21, d22 = build_department(7, 0, 2021), build_department(7, 0, 2022)
    assert d21.book.info["部门名称"] == d22.book.info["部门名称"]
    assert [p.name for p in d21.book.projects] == [p.name for p in d22.book.projects]
    assert [p.budget for p in d21.book.projects] != [p.budget for p in d22.book.projects]
    assert len(first.broken) == 2 * round(6 * 0.34)
    synthesize(tmp_path / "c", 6, 2022, seed=8, processes=1)
    other = _hashes(tmp_path / "c")
    assert all(other[p] != h for p, h in _hashes(tmp_path / "a").items() if p in other)


def test_worker_processes_write_the_same_bytes_as_one_process(tmp_path):
    from jixiao_synth.workbook import write_workbook

    manifest = synthesize(tmp_path / "pool", 64, 2022, seed=4, processes=2)  # enough jobs for two spawned workers
    pooled = _hashes(tmp_path / "pool")
    assert len(pooled) == 64
    for f in manifest.files[::16]:
        dept = build_department(4, f.index, 2022, broken=f.broken.kind if f.broken else None)
        write_workbook(dept.book, tmp_path / "alone" / dept.file, dept.layout)
        assert hashlib.sha256((tmp_path / "alone" / dept.file).read_bytes()).hexdigest() == pooled[f.path]


def test_varied_content_within_the_documented_ranges():
    depts = [build_department(3, i, 2022) for i in range(40)]
    for d in depts:
        tasks = {p.task for p in d.book.projects if not p.task.startswith("其他")}
        assert 3 <= len(tasks) <= 15
        assert 8 <= len(d.book.indicators) <= 40
        assert {i.level1 for i in d.book.indicators} >= {"产出指标", "满意度指标"}
        assert all(s.score <= s.weight for s in d.book.score_items)
    kinds = {f.kind for d in depts for f in d.figures}
    assert kinds == {"higher", "lower", "qualitative", "not_applicable"}
    assert {d.layout.amount_unit for d in depts} == {"万元", "元"}
    assert len({d.layout for d in depts}) > 30


@pytest.fixture(scope="module")
def district(prefect_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    manifest = synthesize(root / "raw", 12, 2022, seed=5, broken_share=0.25, processes=1)
    warehouse = root / "warehouse" / "jixiao.duckdb"
    summary = run_year(2022, root / "raw", warehouse, root / "reports", formats=[])
    return manifest, Settings(2022, root / "raw", warehouse, root / "reports"), summary


@pytest.mark.slow
def test_good_workbooks_load_with_the_figures_they_were_made_from(district):
    manifest, settings, summary = district
    good = sorted(f.dept_code for f in manifest.files if f.broken is None)
    assert summary.loaded == tuple(good)
    summaries = {r["dept_code"]: r for r in query(settings, "select * from mart.department_summary")}
    for f in manifest.files:
        if f.broken is not None:
            continue
        want, got = expected(manifest.seed, f.index, 2022), summaries[f.dept_code]
        for key in ("project_budget_yuan", "project_spent_yuan", "indicators_total", "indicators_ge_100",
                    "indicators_90_100", "indicators_lt_90", "indicators_qualitative"):
            assert got[key] == want[key], (f.path, key)
        assert abs(got["execution_rate"] - want["execution_rate"]) < D("1e-10"), f.path
        assert abs(got["total_score"] - want["total_score"]) < D("1e-9"), f.path
        rates = query(settings, "select indicator, completion_rate from mart.indicator_completion "
                                "where dept_code = ? and completion_rate is not null", [f.dept_code])
        assert {r["indicator"]: fmt_percent(r["completion_rate"]) for r in rates} == {
            name: fmt_percent(rate) for name, rate in want["rates"].items()}, f.path


def test_the_stated_figures_agree_except_the_slips_the_manifest_lists(district):
    manifest, settings, _ = district
    keys = {strip_unit_suffix(label): key for key, label, _ in REPORTED_KEYS} | {"预算经费使用率": "budget_indicator"}
    mismatches = query(settings, "select dept_code, figure_key from audit.reconciliation where status = 'mismatch'")
    found = {(r["dept_code"], r["figure_key"]) for r in mismatches}
    slipped = {(f.dept_code, keys[strip_unit_suffix(s)]) for f in manifest.files if f.broken is None for s in f.slips}
    assert found == slipped


def test_broken_workbooks_are_rejected_with_findings_naming_their_files(district):
    manifest, settings, summary = district
    assert len(manifest.broken) == 3 and len(summary.rejected) == 3
    errors = query(settings, "select file, rule from audit.validation_issues where run_id = ? and severity = 'error'",
                   [summary.run_id])
    for f in manifest.broken:
        name = Path(f.path).name
        assert f.broken.rule == BROKEN_KINDS[f.broken.kind]
        assert (name, f.broken.rule) in {(e["file"], e["rule"]) for e in errors}, f
    assert {e["file"] for e in errors} == {Path(f.path).name for f in manifest.broken}


def test_every_way_of_breaking_a_workbook_is_caught(tmp_path):
    from jixiao.check.rulesets import load_rulesets
    from jixiao.families import raw_tables
    from jixiao.ingest.extract import read_department
    from jixiao.load.staging import Staging
    from jixiao.pipeline import check_departments
    from jixiao_synth.workbook import write_workbook

    departments = []
    for i, kind in enumerate(BROKEN_KINDS):
        dept = build_department(11, i, 2022, broken=kind)
        write_workbook(dept.book, tmp_path / dept.file, dept.layout)
        departments.append(read_department(tmp_path / dept.file, 2022))
    check_departments(departments, 2022, load_rulesets(), None, Staging(tmp_path / "staging", raw_tables()))
    for kind, dept in zip(BROKEN_KINDS, departments):
        assert BROKEN_KINDS[kind] in {f.rule for f in dept.findings if f.severity == "error"}, kind


def test_mutate_changes_exactly_the_requested_share(tmp_path):
    synthesize(tmp_path, 20, [2021, 2022], seed=2, broken_share=0.1, processes=1)
    before = _hashes(tmp_path)
    changed = mutate(tmp_path, 0.15, 2022, seed=9, processes=1)
    after = _hashes(tmp_path)
    assert len(changed) == 3
    assert sorted(p for p in before if before[p] != after[p]) == changed
    assert all(p.startswith("2022/") for p in changed)
    manifest = SynthManifest.load(tmp_path)
    assert sorted(f.path for f in manifest.files if f.revisions == (9,)) == changed
    # numbers change, the department's structure and layout do not
    f = next(f for f in manifest.files if f.path == changed[0])
    old, new = build_department(2, f.index, 2022), build_department(2, f.index, 2022, revisions=(9,))
    assert [(i.name, i.target) for i in old.book.indicators] == [(i.name, i.target) for i in new.book.indicators]
    assert [p.budget for p in old.book.projects] == [p.budget for p in new.book.projects]
    assert [p.spent for p in old.book.projects] != [p.spent for p in new.book.projects]
    assert old.layout == new.layout
