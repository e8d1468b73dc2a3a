"""Reading project forms as printed: what `jixiao synth --forms` writes, in every variant, is read back with the
figures it was made from, and each broken form is reported with the rule and cell its manifest names."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from jixiao.cli import app
from jixiao.families.project.read import read_forms
from jixiao.families.project.tables import identity
from jixiao_synth.project_forms import correct_project_forms, manifest_path, plan_project_forms, synth_project_forms
from tests.conftest import SEED_WORKBOOK

YEAR, COUNT, SEED = 2022, 60, 11


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("forms")
    result = CliRunner().invoke(app, ["synth", "--forms", str(COUNT), "--years", str(YEAR), "--out", str(out),
                                      "--seed", str(SEED), "--broken-share", "0.1"])
    assert result.exit_code == 0, result.output
    books = plan_project_forms(YEAR, COUNT, seed=SEED, broken_share=0.1)
    listed = {book["file"]: book["forms"] for book in json.loads(manifest_path(out, YEAR).read_text(encoding="utf-8"))}
    for book in books:  # the plan is the forms' figures; the manifest where the writer put them
        for form, entry in zip(book.forms, listed[book.name], strict=True):
            form.sheet, form.cells = entry["sheet"], {"expected": entry["expected_cell"]}
    read = {book.name: read_forms(out / str(YEAR) / book.name, YEAR) for book in books}
    return out, books, read


def test_the_cli_writes_every_form_and_a_manifest_outside_the_year_folder(made):
    out, books, _ = made
    manifest = json.loads(manifest_path(out, YEAR).read_text(encoding="utf-8"))
    assert sum(len(book["forms"]) for book in manifest) == COUNT
    assert sorted(p.name for p in (out / str(YEAR)).iterdir()) == sorted(book.name for book in books)
    assert len({tuple(sorted(b["variant"].items())) for b in manifest}) > 3  # the variants are drawn
    named = [(f["project_code"] or f["unit_name"], f["project"]) for b in manifest for f in b["forms"] if f["project"]]
    assert len(set(named)) == len(named)  # no two forms of one project unless a test makes them


def test_a_province_of_forms_has_no_two_of_one_project():
    books = plan_project_forms(YEAR, 5000, seed=SEED)
    named = [(f.project_code or f.unit_name, f.project) for b in books for f in b.forms if f.project]
    assert len(set(named)) == len(named) and any("批）" in project for _, project in named)


def test_every_form_of_every_variant_is_read_with_its_figures(made):
    _, books, read = made
    checked = 0
    for book in books:
        forms = read[book.name]
        assert forms is not None and [f.sheet for f in forms] == [f.sheet for f in book.forms]
        for made_form, form in zip(book.forms, forms, strict=True):
            if made_form.broken:
                continue
            assert form.project_key == identity(made_form.project_code, made_form.unit_name, made_form.project)
            assert form.info["project"] == made_form.project and form.info["unit_name"] == made_form.unit_name
            assert form.info["reported_total"] == made_form.printed_total
            total = next(r for r in form.rows["project_fund_rows"] if r["source"] == "年度资金总额")
            assert (total["budget_yuan"], total["spent_yuan"]) == (made_form.funds[0].budget, made_form.funds[0].spent)
            assert total["weight"] == Decimal(book.variant.budget_weight)
            indicators = form.rows["project_indicators"]
            assert [i["indicator"] for i in indicators] == [i.indicator for i in made_form.indicators]
            assert [i["weight"] for i in indicators] == [i.weight for i in made_form.indicators]
            assert [i["level1"] for i in indicators] == [i.level1 for i in made_form.indicators]
            assert not [f for f in form.findings if f.severity == "error"], form.findings
            filler = [f for f in form.findings if f.rule == "project.filler_row"]
            assert len(filler) == (1 if book.variant.filler_rows else 0)  # one note a form, naming every row
            for f in filler:
                cells = f.value.split("、")
                assert cells[0] == f.cell and str(len(cells)) in f.message and len(set(cells)) == len(cells)
            checked += 1
    assert checked >= COUNT * 0.8


def test_each_broken_form_is_reported_with_its_rule_and_cell(made):
    _, books, read = made
    broken = [(made_form, form) for book in books for made_form, form in zip(book.forms, read[book.name], strict=True)
              if made_form.broken]
    assert broken
    for made_form, form in broken:
        found = {(f.rule, f.cell) for f in form.findings if f.severity == "error"}
        assert (made_form.expected_rule, made_form.cells["expected"]) in found, (made_form.broken, form.findings)


def test_a_department_workbook_or_a_file_of_another_kind_is_not_a_form(tmp_path):
    note = tmp_path / "说明.txt"
    note.write_text("不是工作簿", encoding="utf-8")
    assert read_forms(SEED_WORKBOOK, YEAR) is None
    assert read_forms(note, YEAR) is None


def test_a_corrected_workbook_reads_clean_keeps_its_projects_and_leaves_the_others_alone(tmp_path):
    synth_project_forms(tmp_path, YEAR, 30, seed=SEED, broken_share=0.3, slip_share=0.5)
    folder = tmp_path / str(YEAR)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    keys = {name: [f.project_key for f in read_forms(folder / name, YEAR)] for name in before}
    changed = correct_project_forms(tmp_path, YEAR, 0.5, seed=SEED, broken_share=0.3, slip_share=0.5)
    assert len(changed) == round(len(before) * 0.5)
    manifest = {b["file"]: b["forms"] for b in json.loads(manifest_path(tmp_path, YEAR).read_text(encoding="utf-8"))}
    for name, data in before.items():
        path = folder / name
        if path not in changed:
            assert path.read_bytes() == data
            continue
        assert path.read_bytes() != data
        forms = read_forms(path, YEAR)
        # the same projects, corrected (a form missing its name had no key before)
        assert [k for k, _ in zip(keys[name], forms, strict=True) if k] == \
            [f.project_key for k, f in zip(keys[name], forms, strict=True) if k]
        assert not [f for form in forms for f in form.findings if f.severity == "error"]
        assert all(not f["slips"] and not f["broken"] for f in manifest[name])
