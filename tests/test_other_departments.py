"""Workbooks of other departments, in other layouts, through the real flow.

Expected figures are recomputed here from each workbook's own numbers.
"""

from __future__ import annotations

import dataclasses
import shutil
from decimal import Decimal as D

import pytest

from jixiao.publish.display import fmt_percent, fmt_score, fmt_wan
from jixiao_synth.workbook import DepartmentBook, Indicator, Layout, Project, ScoreItem, Task, write_workbook
from tests.conftest import SEED_WORKBOOK, query

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

PLAIN = Layout(title_rows=False, merge_hierarchy=False, percent_cells=False, amount_unit="元")

EDU = DepartmentBook(
    info={"部门名称": "番禺区教育局（测试）", "部门编码": "PY-EDU", "年度": 2022,
          "全年预算数（元）": "12,345,678.90", "财政拨款支出（元）": "11,000,000.55"},
    tasks=(Task(1, "教师培训", "完成"), Task(2, "校舍维护", "完成")),
    indicators=(
        Indicator("产出指标", "数量指标", "培训教师人次", "≥1200人次", "1350人次"),
        Indicator("产出指标", "质量指标", "校舍安全隐患发生率", "≤5%", "4%"),
        Indicator("产出指标", "成本指标", "生均公用经费超支率", "不超过2%", "3%"),
        Indicator("产出指标", "时效指标", "资金拨付及时率", "100%", "95%"),
        Indicator("产出指标", "数量指标", "新建学校", "/", "/"),
        Indicator("效益指标", "社会效益指标", "办学条件改善", "有效提升", "已完成"),
        Indicator("满意度指标", "服务对象满意度指标", "家长满意度", "≥90%", "92.5%"),
    ),
    projects=(
        Project("任务1：教师培训", "教师培训经费", 120.5, 118.25),
        Project("任务1：教师培训", "骨干教师研修", 30.0, 30.0),
        Project("任务2：校舍维护", "校舍维修改造", 800.0, 612.34),
    ),
    project_total=None,
    project_notes=(),
    score_items=(
        ScoreItem("履职效能", 50, "整体效能", 50, "部门整体绩效目标产出指标完成情况", 20, None),
        ScoreItem("履职效能", 50, "整体效能", 50, "部门整体绩效目标效益指标完成情况", 20, None),
        ScoreItem("履职效能", 50, "整体效能", 50, "部门预算资金支出率", 10, None),
        ScoreItem("管理效率", 50, "预算管理", 50, "预算编制与执行", 50, 45),
    ),
    score_total=None,
    reported={"项目支出总额（万元）": 760.59},
)


def expected(book: DepartmentBook) -> dict:
    """The book's figures, computed here in plain Decimal arithmetic."""
    budget, spent = D("12345678.90"), D("11000000.55")
    execution = spent / budget
    rates = {"培训教师人次": D(1350) / 1200, "校舍安全隐患发生率": D(5) / 4, "生均公用经费超支率": D(2) / 3,
             "资金拨付及时率": D(95) / 100, "家长满意度": D("92.5") / 90}
    output = [r for n, r in rates.items() if n != "家长满意度"]
    shown = [D(fmt_percent(r).rstrip("%")) for r in output]
    share = D(20) * sum(s >= 100 for s in shown) / len(shown)
    proportional = D(20) * sum(min(r, 1) for r in output) / len(output)
    return {
        "execution": execution, "rates": rates,
        "project_budget": sum(D(str(p.budget)) for p in book.projects) * 10000,
        "project_spent": sum(D(str(p.spent)) for p in book.projects) * 10000,
        "panyu_share": share + 20 + 10 * min(execution, 1) + 45,
        "proportional": proportional + 20 + 10 * min(execution, 1) + 45,
    }


@pytest.fixture
def edu_raw(raw_dir):
    write_workbook(EDU, raw_dir / "2022" / "教育局.xlsx", PLAIN)
    return raw_dir


def test_another_department_in_a_plain_layout(edu_raw, settings_for, run_flow):
    settings = settings_for(edu_raw)
    summary = run_flow(settings)
    assert summary.loaded == ("PY-EDU",) and summary.exit_code == 0
    want = expected(EDU)
    rows = {r["indicator"]: r for r in query(settings, "select * from mart.indicator_completion")}
    for name, rate in want["rates"].items():
        assert fmt_percent(rows[name]["completion_rate"]) == fmt_percent(rate), name
    assert rows["校舍安全隐患发生率"]["direction"] == "lower"
    assert rows["新建学校"]["bucket"] == "not_applicable"
    assert (rows["办学条件改善"]["bucket"], rows["办学条件改善"]["is_met"]) == ("qualitative", True)
    s = query(settings, "select * from mart.department_summary")[0]
    assert fmt_percent(s["execution_rate"]) == fmt_percent(want["execution"])
    assert (s["project_budget_yuan"], s["project_spent_yuan"]) == (want["project_budget"], want["project_spent"])
    assert (s["indicators_total"], s["indicators_ge_100"], s["indicators_90_100"], s["indicators_lt_90"],
            s["indicators_qualitative"], s["indicators_not_applicable"]) == (6, 3, 1, 1, 1, 1)
    assert fmt_score(s["total_score"]) == fmt_score(want["panyu_share"])
    budget_item = query(settings, "select * from mart.score_sheet where item = '部门预算资金支出率'")[0]
    assert budget_item["budget_rate_source"] == "部门预算执行率"
    reconciled = query(settings, "select status from audit.reconciliation where figure_key = 'project_spent_yuan'")
    assert reconciled == [{"status": "match"}]


def test_the_proportional_rule_set(edu_raw, settings_for, run_flow):
    settings = settings_for(edu_raw, ruleset="proportional")
    run_flow(settings)
    s = query(settings, "select total_score, ruleset from mart.department_summary")[0]
    assert s["ruleset"] == "proportional"
    assert fmt_score(s["total_score"]) == fmt_score(expected(EDU)["proportional"])
    methods = query(settings, "select distinct method from mart.score_sheet order by 1")
    assert methods == [{"method": "computed"}, {"method": "entered"}]


BROKEN = dataclasses.replace(
    EDU,
    projects=(*EDU.projects[:2], Project("任务2：校舍维护", "校舍维修改造", -800.0, "六百万")),
    score_items=(*EDU.score_items[:3], ScoreItem("管理效率", 50, "预算管理", 50, "预算编制与执行", 40, 45)),
)


def test_a_broken_workbook_is_rejected_and_the_others_load(edu_raw, settings_for, run_flow):
    settings = settings_for(edu_raw)
    assert run_flow(settings).loaded == ("PY-EDU",)
    good = query(settings, "select * exclude (run_id) from mart.project_spending order by all")

    write_workbook(BROKEN, edu_raw / "2022" / "教育局.xlsx", PLAIN)  # the department resubmits, wrongly
    shutil.copy(SEED_WORKBOOK, edu_raw / "2022")
    summary = run_flow(settings)
    assert summary.loaded == ("PY-DPF",)
    assert summary.exit_code == 1 and len(summary.rejected) == 1
    errors = query(settings, "select * from audit.validation_issues where run_id = ? and severity = 'error'",
                   [summary.run_id])
    by_rule = {e["rule"]: e for e in errors}
    assert by_rule["number.not_a_number"]["cell"] == "D4"
    assert by_rule["number.not_a_number"]["value"] == "六百万"
    assert "scores.weights_sum" in by_rule
    assert all(e["file"] == "教育局.xlsx" and e["dept_code"] == "PY-EDU" for e in errors)
    # its last good data stays; nothing of the broken workbook is lost: it is quarantined
    assert query(settings, "select * exclude (run_id) from mart.project_spending where dept_code = 'PY-EDU' "
                           "order by all") == good
    quarantined = query(settings, "select * from audit.quarantine where run_id = ?", [summary.run_id])
    assert {q["sheet"] for q in quarantined} >= {"项目支出", "自评得分", "绩效指标"}
    assert len([q for q in quarantined if q["sheet"] == "项目支出"]) == 3
    assert query(settings, "select count(*) as n from mart.department_summary") == [{"n": 2}]
    assert query(settings, "select status from audit.runs order by started_at desc limit 1") == [{"status": "partial"}]


def test_project_amounts_are_exact_decimal(edu_raw, settings_for, run_flow):
    settings = settings_for(edu_raw)
    run_flow(settings)
    row = query(settings, "select budget_yuan, spent_yuan from mart.project_spending where project = '教师培训经费'")[0]
    assert (row["budget_yuan"], row["spent_yuan"]) == (D("1205000.00"), D("1182500.00"))
    assert fmt_wan(row["spent_yuan"]) == "118.25"
