"""The bundled 2022 report of 区残联, end to end through the real flow.

Expected figures are those of ../shared/seed/README.md, recomputed from the
report's own numbers; the defects listed there must be found.
"""

from __future__ import annotations

import shutil

import pytest

from jixiao.publish.display import fmt_percent, fmt_score, fmt_wan
from jixiao.settings import Settings
from tests.conftest import SEED_WORKBOOK, mart_checksum, query

SEED_RATES = [
    "143.18%", "93.52%", "95.79%", "100.00%", "85.00%", "64.44%", "33.33%", "100.91%", "116.67%",
    "96.44%", "84.21%", "105.93%", "100.88%", "100.00%", "100.00%", "106.26%", "100.00%", "102.04%",
]


@pytest.fixture(scope="module")
def seed_run(prefect_server, tmp_path_factory):
    from flows.year import run_year

    root = tmp_path_factory.mktemp("seed")
    (root / "raw" / "2022").mkdir(parents=True)
    shutil.copy(SEED_WORKBOOK, root / "raw" / "2022")
    settings = Settings(2022, root / "raw", root / "jixiao.duckdb", root / "reports")
    summary = run_year(2022, settings.raw_dir, settings.warehouse, settings.out_dir, formats=["html"])
    return settings, summary


def test_the_department_loads_with_warnings_only(seed_run):
    settings, summary = seed_run
    assert summary.loaded == ("PY-DPF",)
    assert summary.rejected == ()
    assert summary.errors == 0
    assert summary.exit_code == 0
    runs = query(settings, "select status, departments_loaded from audit.runs")
    assert runs == [{"status": "completed", "departments_loaded": 1}]


def test_completion_rates_and_buckets(seed_run):
    settings, _ = seed_run
    rows = query(settings, "select completion_rate, bucket from mart.indicator_completion order by indicator_no")
    assert [fmt_percent(r["completion_rate"]) for r in rows] == SEED_RATES
    summary = query(settings, "select * from mart.department_summary")[0]
    assert (summary["indicators_total"], summary["indicators_ge_100"], summary["indicators_90_100"],
            summary["indicators_lt_90"]) == (18, 11, 3, 4)
    assert (summary["output_indicators"], summary["effect_indicators"]) == (17, 1)


def test_project_spending(seed_run):
    settings, _ = seed_run
    projects = query(settings, "select * from mart.project_spending order by project_no")
    assert len(projects) == 23
    first_mark = next(p for p in projects if p["project"] == "广州追加提前下达残疾人教育、就业、社会保障等财政补贴项目")
    second = next(p for p in projects if p["project"] == "广州追加提前下达残疾人教育就业社会保障等财政补贴项目")
    assert (fmt_percent(first_mark["spend_rate"]), fmt_percent(second["spend_rate"])) == ("22.37%", "84.34%")
    assert all(fmt_percent(p["spend_rate"]) == fmt_percent(p["reported_rate"]) for p in projects)
    s = query(settings, "select * from mart.department_summary")[0]
    assert (fmt_wan(s["project_budget_yuan"]), fmt_wan(s["project_spent_yuan"])) == ("3,549.27", "3,456.25")
    assert fmt_percent(s["project_spend_rate"]) == "97.38%"
    tasks = query(settings, "select * from mart.task_spending order by task_no")
    assert len(tasks) == 10
    assert sum(t["spent_yuan"] for t in tasks) == s["project_spent_yuan"]


def test_execution_rate_and_scores(seed_run):
    settings, _ = seed_run
    s = query(settings, "select * from mart.department_summary")[0]
    assert (fmt_wan(s["budget_yuan"]), fmt_wan(s["spent_yuan"])) == ("4,796.60", "4,683.89")
    assert fmt_percent(s["execution_rate"]) == "97.65%"
    assert fmt_score(s["total_score"]) == "91.54"
    assert s["grade"] == "优"
    computed = {r["item"]: r for r in query(settings, "select * from mart.score_sheet where method = 'computed'")}
    assert {k: fmt_score(v["score"]) for k, v in computed.items()} == {
        "部门整体绩效目标产出指标完成情况": "11.76",
        "部门整体绩效目标效益指标完成情况": "20.00",
        "部门预算资金支出率": "9.78",
    }
    entered = query(settings, "select sum(score) as s, count(*) as n from mart.score_sheet where method = 'entered'")[0]
    assert (entered["s"], entered["n"]) == (50, 23)


def test_the_report_defects_are_found(seed_run):
    settings, _ = seed_run
    mismatches = {r["figure_key"]: r for r in query(
        settings, "select * from audit.reconciliation where status = 'mismatch'")}
    assert set(mismatches) == {"project_spent_yuan", "budget_indicator"}
    spent = mismatches["project_spent_yuan"]
    assert (fmt_wan(spent["reported_value"]), fmt_wan(spent["computed_value"])) == ("3,546.25", "3,456.25")
    budget = mismatches["budget_indicator"]
    assert (fmt_percent(budget["reported_value"]), fmt_percent(budget["computed_value"])) == ("97.76%", "97.65%")
    assert budget["sheet"] == "绩效指标" and budget["cell"]
    issues = {r["rule"]: r for r in query(settings, "select * from audit.validation_issues")}
    assert issues["score.item_unnamed"]["severity"] == "warning"
    assert issues["score.item_unnamed"]["sheet"] == "自评得分"
    assert issues["text.leading_punctuation"]["value"].startswith(": 举办")
    assert issues["reconcile.project_spent_yuan"]["cell"] == spent["cell"]


def test_every_stated_figure_is_checked(seed_run):
    settings, _ = seed_run
    rows = query(settings, "select figure_key, status from audit.reconciliation where figure_key not in "
                           "('indicator_rate', 'project_rate', 'item_score')")
    assert {r["figure_key"] for r in rows} >= {
        "execution_rate", "total_score", "project_budget_yuan", "project_spent_yuan", "indicators_ge_100",
        "indicators_90_100", "indicators_lt_90", "project_budget_total", "project_spent_total", "score_total",
    }
    assert not [r for r in rows if r["status"] == "not_reconciled"]


def test_html_tables_show_the_figures(seed_run):
    settings, _ = seed_run
    folder = settings.out_dir / "2022" / "PY-DPF"
    page = (folder / "index.html").read_text(encoding="utf-8")
    for text in ("143.18%", "3,549.27", "3,456.25", "97.38%", "91.54", "11.76", "9.78", "表2-1", "表2-2", "表2-3"):
        assert text in page, text
    assert "3,546.25" in (folder / "summary.html").read_text(encoding="utf-8")


def test_a_rerun_gives_identical_marts(seed_run):
    from flows.year import run_year

    settings, _ = seed_run
    before = mart_checksum(settings)
    counts = query(settings, "select count(*) as n from mart.project_spending")
    rerun = run_year(2022, settings.raw_dir, settings.warehouse, settings.out_dir, force=True, formats=["html"])
    assert not rerun.skipped and rerun.loaded == ("PY-DPF",)
    assert mart_checksum(settings) == before
    assert query(settings, "select count(*) as n from mart.project_spending") == counts
    assert len(query(settings, "select * from audit.runs")) == 2


def test_each_mismatch_says_what_the_marts_hold(seed_run):
    """预算经费使用率 is printed 97.76 % against an execution rate of 97.65 %: the budget item is scored
    from the printed 97.76 %, so its warning must not claim the computed value was used."""
    settings, summary = seed_run
    found = {r["rule"]: r["message"] for r in query(
        settings, "select rule, message from audit.validation_issues where run_id = ? and rule like 'reconcile.%'",
        [summary.run_id])}
    budget = found["reconcile.budget_indicator"]
    source = query(settings, "select budget_rate_source from mart.score_sheet where item = '部门预算资金支出率'")
    assert source[0]["budget_rate_source"] in budget and "计算值" not in budget.split("不一致")[1].split("；")[0]
    assert "评分按该指标填报的实际完成值计算" in budget
    others = [m for rule, m in found.items() if rule != "reconcile.budget_indicator"]
    assert others and all("报告表格采用按明细计算的值" in m for m in others)
