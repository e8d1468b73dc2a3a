"""Project forms beside a department workbook in one year folder, through the real Prefect flow:
every form lands in the marts or is rejected with its findings, printed slips are reconciliation
warnings naming their cells, a corrected form replaces that project only, and the roll-up is drawn."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from flows.year import run_year
from jixiao.families.project.tables import identity
from jixiao_synth.project_forms import plan_project_forms, synth_project_forms, write_forms_workbook
from tests.conftest import SEED_WORKBOOK

pytestmark = pytest.mark.slow


@pytest.fixture
def year_with_forms(raw_dir):
    year_dir = raw_dir / "2022"
    year_dir.mkdir()
    shutil.copy(SEED_WORKBOOK, year_dir / SEED_WORKBOOK.name)
    made = raw_dir / "made"
    paths = synth_project_forms(made, 2022, 24, seed=7)
    for path in paths:
        shutil.move(path, year_dir / path.name)
    return raw_dir


def run(settings):
    return run_year(settings.year, settings.raw_dir, settings.warehouse, settings.out_dir,
                    formats=["html", "xlsx"], force=True)


def test_forms_load_beside_departments_and_slips_name_their_cells(year_with_forms, settings_for, prefect_server):
    settings = settings_for(year_with_forms)
    run(settings)
    run(settings)  # a rerun replaces the same partitions: nothing doubles
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        forms = con.execute("select count(*) from raw.project_forms").fetchone()[0]
        loaded = con.execute("select count(*) from mart.project_evaluation").fetchone()[0]
        findings = con.execute("select count(*) from audit.validation_issues "
                           "where severity = 'error' and rule like 'project.%'").fetchone()[0]
        slips = con.execute("select file, sheet, cell from audit.validation_issues "
                        "where rule like 'reconcile.project.%' and run_id = (select max(run_id) from audit.runs)").fetchall()
        department = con.execute("select total_score from mart.department_summary where dept_code = 'PY-DPF'").fetchone()
        totals = con.execute("select count(*) from mart.project_evaluation e where total_score <> "
                         "(select sum(score) from mart.project_indicator_score i where i.project_key = e.project_key)"
                         " + budget_score").fetchone()[0]
    assert forms == loaded > 0
    assert findings >= 1  # the generator breaks a share of its forms
    assert slips and all(file and sheet and cell for file, sheet, cell in slips)
    assert department is not None  # the department workbook loads as before
    assert totals == 0  # every total is the sum of its awarded items
    assert (settings.out_dir / "2022" / "projects" / "index.html").exists()
    assert list((settings.out_dir / "2022" / "projects" / "forms").glob("form-*.html"))

    # Word alone: the pages and Excel files of the earlier drawing go rather than stand beside it.
    run_year(settings.year, settings.raw_dir, settings.warehouse, settings.out_dir, formats=["docx"], force=True)
    projects = settings.out_dir / "2022" / "projects"
    assert {p.suffix for p in projects.rglob("*.*")} == {".docx"}
    assert len(list((projects / "forms").glob("form-*.docx"))) == loaded


def test_identity_prefers_the_project_code():
    assert identity("P-1", "单位", "项目") == "code:P-1"
    assert identity(None, "单位", "项目") == "name:单位｜项目"
    assert identity(None, None, "项目") is None


def test_a_nightly_reads_only_the_changed_workbooks_of_forms(year_with_forms, settings_for, prefect_server):
    """Unchanged workbooks of forms stand (their marts and drawn forms are kept); a corrected one is read and
    replaces its projects only; an unchanged workbook with a rejected form stands rejected, unread."""
    settings = settings_for(year_with_forms)
    year_dir = settings.year_dir
    books = plan_project_forms(2022, 24, seed=7)

    def nightly():
        return run_year(settings.year, settings.raw_dir, settings.warehouse, settings.out_dir, formats=["html"])

    first = nightly()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        before = con.execute("select project_key, run_id from mart.project_evaluation order by 1").fetchall()
        with_rejected = {file for (file,) in con.execute(
            "select distinct file from audit.validation_issues where run_id = ? and severity = 'error'",
            [first.run_id]).fetchall()}
    clean = next(b for b in books if b.name not in with_rejected)
    for form in clean.forms:
        form.conclusion = "项目总体完成较好（已更正）"
    write_forms_workbook(year_dir / clean.name, clean.forms, clean.variant)
    second = nightly()

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        read = con.execute("select rows from audit.run_stages where run_id = ? and stage = 'read'",
                           [second.run_id]).fetchone()[0]
        after = dict(con.execute("select project_key, run_id from mart.project_evaluation").fetchall())
        corrected = con.execute("select distinct conclusion from raw.project_forms where src_file = ?",
                                [clean.name]).fetchall()
        files = dict(con.execute("select project_key, src_file from raw.project_forms").fetchall())
    assert with_rejected and read == 1
    assert second.unchanged_rejected == tuple(sorted(with_rejected)) and second.exit_code == 1
    assert corrected == [("项目总体完成较好（已更正）",)]
    changed = {key for key, run in after.items() if run == second.run_id}
    assert {files[key] for key in changed} == {clean.name}
    assert sum(files[key] == clean.name for key in changed) == len(clean.forms)
    assert {key for key, run in before} == set(after) and all(after[k] == r for k, r in before if k not in changed)
    assert first.forms_loaded == len(after) and second.forms_loaded == len(changed)
