"""The project form's pandera schemas: what no form may hold (its scores are computed from it) is an error naming
its cell; printed results are reconciled, not rejected."""

from __future__ import annotations

from decimal import Decimal

from jixiao.check.rulesets import load_rulesets
from jixiao.families import raw_tables, read_chunk
from jixiao.load.staging import Staging
from jixiao.pipeline import check_departments
from jixiao_synth.project_forms import FormVariant, build_form, write_forms_workbook

YEAR = 2022


def _checked(tmp_path, *forms):
    path = write_forms_workbook(tmp_path / "项目.xlsx", list(forms), FormVariant())
    batch = check_departments(read_chunk([(path, YEAR)]), YEAR, load_rulesets(), None,
                              Staging(tmp_path / "staging", raw_tables()))
    return forms, batch


def test_negative_amounts_and_points_beyond_100_reject_the_form_at_their_cells(tmp_path):
    bad, good = build_form(0, YEAR, 1, FormVariant()), build_form(0, YEAR, 2, FormVariant())
    bad.funds[0].spent = Decimal("-500")
    bad.indicators[0].weight = Decimal("150")
    bad.indicators[1].printed_score = Decimal("120")  # a printed result: reconciled, not a reason to reject
    (bad, good), batch = _checked(tmp_path, bad, good)
    found = {(f.rule, f.cell): f for f in batch.findings if f.rule.startswith("project.project_")}
    spent = found[("project.project_fund_rows.spent_yuan.min", bad.cells["fund.年度资金总额.spent"])]
    assert spent.sheet == bad.sheet and spent.value == "-500.00" and "全年执行数不能为负数" in spent.message
    weight = next(f for (rule, _), f in found.items() if rule == "project.project_indicators.weight.max")
    assert weight.sheet == bad.sheet and weight.cell and weight.value == "150.0000" and "分值不能大于 100" in weight.message
    assert not [rule for rule, _ in found if "reported" in rule]
    assert [f.sheet for f in batch.rejected_forms] == [bad.sheet]  # the other form of the workbook loads
    assert [f.sheet for f in batch.accepted_forms] == [good.sheet]


def test_a_clean_form_passes_its_schemas(tmp_path):
    _, batch = _checked(tmp_path, build_form(0, YEAR, 3, FormVariant()))
    assert not [f for f in batch.findings if f.rule.startswith("project.project_")]
