"""Each mart, given a few hand-written raw rows: the SQL alone, in a DuckDB file in tmp_path."""

from __future__ import annotations

from decimal import Decimal as D

import polars as pl
import pytest

from jixiao.check.rulesets import load_rulesets
from jixiao.families.department import DEPARTMENT
from jixiao.ingest.frames import TABLES
from jixiao.load.staging import Staging
from jixiao.load.warehouse import connect, replace_partitions
from jixiao.settings import PROJECT_ROOT

SQL = PROJECT_ROOT / "sql"
KEY = {"year": 2030, "dept_code": "T-1", "src_file": "t.xlsx"}


def frame(name: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{**KEY, **r} for r in rows], schema=TABLES[name], strict=False) if rows else pl.DataFrame(
        schema=TABLES[name])


def department(**over) -> dict:
    return {"dept_name": "测试部门", "budget_yuan": D("1000.00"), "spent_yuan": D("800.00"),
            "ruleset": "panyu_share", **over}


def indicator(no: int, name: str, target, actual, direction="higher", level1="产出指标", unit="个", **over) -> dict:
    return {"indicator_no": no, "level1": level1, "level2": "数量指标", "indicator": name,
            "target_text": str(target), "target_value": target, "target_unit": unit, "direction": direction,
            "actual_text": str(actual), "actual_value": actual, "actual_unit": unit,
            "actual_direction": "higher" if actual is not None else direction, **over}


def score(no: int, item: str, weight, reported=None, level1="履职效能", l1w=D(50), level2="整体效能", l2w=D(50)) -> dict:
    return {"item_no": no, "level1": level1, "level1_weight": l1w, "level2": level2, "level2_weight": l2w,
            "item": item, "weight": weight, "reported_score": reported}


def build(tmp_path, ruleset: str = "panyu_share", **rows) -> callable:
    frames = {name: frame(name, rows.get(name, [])) for name in TABLES}
    frames["departments"] = frame("departments", [department(ruleset=ruleset)])
    path = tmp_path / "w.duckdb"
    staging = Staging(tmp_path / "staging", TABLES)
    staging.add(frames)
    with connect(path) as con:
        replace_partitions(con, SQL, family=DEPARTMENT, partitions=pl.DataFrame({"year": [2030], "dept_code": ["T-1"]},
                                                               schema={"year": pl.Int32, "dept_code": pl.String}),
                           staging=staging, rules=load_rulesets().rules, run_id="r1")

    def q(sql: str) -> list[dict]:
        with connect(path, read_only=True) as con:
            return con.sql(sql).pl().to_dicts()
    return q


def test_indicator_completion_rates_buckets_and_directions(tmp_path):
    q = build(tmp_path, indicators=[
        indicator(1, "高", D(200), D("199.99")),          # 99.995% shows as 100.00%: bucket by the shown rate
        indicator(2, "低优", D(5), D(4), direction="lower", unit="%"),
        indicator(3, "零事故", D(0), D(0), direction="lower", unit="起"),
        indicator(4, "九成", D(100), D(90)),
        indicator(5, "不适用", None, None, direction="not_applicable", unit=None),
        indicator(6, "定性", None, None, direction="qualitative", unit=None, actual_met=True),
        indicator(7, "待复核", None, None, direction="qualitative", unit=None, actual_met=None),
    ])
    rows = {r["indicator"]: r for r in q("select * from mart.indicator_completion")}
    assert rows["高"]["completion_rate"] == D("0.99995") and rows["高"]["bucket"] == ">=100%"
    assert rows["低优"]["completion_rate"] == D("1.25") and rows["低优"]["bucket"] == ">=100%"
    assert rows["零事故"]["completion_rate"] is None and rows["零事故"]["is_met"] is True
    assert rows["九成"]["bucket"] == "90-100%"
    assert (rows["不适用"]["bucket"], rows["不适用"]["is_met"]) == ("not_applicable", None)
    assert (rows["定性"]["bucket"], rows["定性"]["is_met"]) == ("qualitative", True)
    assert rows["待复核"]["is_met"] is None


def test_exact_ratio_keeps_half_up_ties(tmp_path):
    # 24.69 / 200 = 0.12345 exactly; in a double it is 0.123449999… and would round down
    q = build(tmp_path, projects=[{"task_no": 1, "task": "任务1", "project_no": 1, "project": "p",
                                   "budget_yuan": D("200.00"), "spent_yuan": D("24.69")}])
    rate = q("select spend_rate from mart.project_spending")[0]["spend_rate"]
    assert rate == D("0.12345")
    assert q("select round(spend_rate, 4) as r from mart.project_spending")[0]["r"] == D("0.1235")


def test_project_and_task_spending(tmp_path):
    q = build(tmp_path, projects=[
        {"task_no": 1, "task": "任务1", "project_no": 1, "project": "a", "budget_yuan": D("100.00"), "spent_yuan": D("50.00")},
        {"task_no": 1, "task": "任务1", "project_no": 2, "project": "b", "budget_yuan": D("300.00"), "spent_yuan": D("300.00")},
        {"task_no": 2, "task": "任务2", "project_no": 3, "project": "c", "budget_yuan": D("0.00"), "spent_yuan": D("0.00")},
    ])
    tasks = q("select task_no, projects, budget_yuan, spent_yuan, spend_rate from mart.task_spending order by task_no")
    assert tasks == [
        {"task_no": 1, "projects": 2, "budget_yuan": D("400.00"), "spent_yuan": D("350.00"), "spend_rate": D("0.875")},
        {"task_no": 2, "projects": 1, "budget_yuan": D("0.00"), "spent_yuan": D("0.00"), "spend_rate": None},
    ]
    summary = q("select project_budget_yuan, project_spent_yuan, project_spend_rate, execution_rate "
                "from mart.department_summary")[0]
    assert summary == {"project_budget_yuan": D("400.00"), "project_spent_yuan": D("350.00"),
                       "project_spend_rate": D("0.875"), "execution_rate": D("0.8")}


def test_score_sheet_share_rule_and_fallbacks(tmp_path):
    q = build(
        tmp_path,
        indicators=[indicator(1, "a", D(10), D(10)), indicator(2, "b", D(10), D(5)), indicator(3, "c", D(10), D(9)),
                    indicator(4, "sat", D(90), D(95), level1="满意度指标", unit="%")],
        scores=[score(1, "部门整体绩效目标产出指标完成情况", D(20), D(1)),
                score(2, "部门整体绩效目标效益指标完成情况", D(20), D(3)),
                score(3, "部门预算资金支出率", D(10), D(9)),
                score(4, "预算编制", D(50), D(45), level1="管理效率", level2="预算管理")],
    )
    rows = {r["item"]: r for r in q("select * from mart.score_sheet")}
    # 1 of 3 output indicators at 100%: 20 × 1/3 = 6.666…, awarded to two decimals, half up
    assert rows["部门整体绩效目标产出指标完成情况"]["score"] == (D(20) / 3).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert rows["部门整体绩效目标效益指标完成情况"]["score"] == 20
    # no 预算经费使用率 indicator: the department's own 800 / 1000
    assert rows["部门预算资金支出率"]["score"] == D(8)
    assert rows["部门预算资金支出率"]["budget_rate_source"] == "部门预算执行率"
    assert (rows["预算编制"]["method"], rows["预算编制"]["score"]) == ("entered", 45)
    summary = q("select total_score, grade from mart.department_summary")[0]
    assert summary["total_score"] == sum(r["score"] for r in rows.values())
    assert summary["grade"] == "中"  # 79.67


def test_score_sheet_proportional_rule(tmp_path):
    q = build(
        tmp_path, ruleset="proportional",
        indicators=[indicator(1, "a", D(10), D(20), weight=D(3)), indicator(2, "b", D(10), D(5), weight=D(1))],
        scores=[score(1, "部门整体绩效目标产出指标完成情况", D(20), None)],
    )
    row = q("select score, method from mart.score_sheet")[0]
    # capped at 1: (3 × 1 + 1 × 0.5) / 4 × 20 = 17.5
    assert (row["score"], row["method"]) == (D("17.5"), "computed")


def test_reconciliation_half_up_tolerance(tmp_path):
    q = build(
        tmp_path,
        reported=[{"figure": "execution_rate", "label": "完成年度预算比例", "reported_text": "80.00%",
                   "reported_value": D("0.8"), "tolerance": D("0.00005"), "src_sheet": "报告数值", "src_row": 3,
                   "src_cell": "B3"},
                  {"figure": "project_spent_yuan", "label": "项目支出总额", "reported_text": "1",
                   "reported_value": D("10000"), "tolerance": D("5000"), "src_sheet": "报告数值", "src_row": 4,
                   "src_cell": "B4"},
                  {"figure": None, "label": "其他说明", "reported_text": "略", "reported_value": None,
                   "tolerance": None, "src_sheet": "报告数值", "src_row": 5, "src_cell": "B5"}],
    )
    rows = {r["figure"]: r["status"] for r in q("select figure, status from audit.reconciliation")}
    assert rows == {"完成年度预算比例": "match", "项目支出总额": "mismatch", "其他说明": "not_reconciled"}


@pytest.mark.parametrize("mart", ["indicator_completion", "project_spending", "task_spending", "score_sheet",
                                  "department_summary"])
def test_marts_hold_money_as_decimal(tmp_path, mart):
    q = build(tmp_path)
    with connect(tmp_path / "w.duckdb", read_only=True) as con:
        types = dict(con.sql(f"select column_name, data_type from information_schema.columns "
                             f"where table_schema = 'mart' and table_name = '{mart}'").fetchall())
    assert types, mart
    assert all(t.startswith("DECIMAL") for c, t in types.items() if c.endswith(("_yuan", "_rate", "score")))
    assert q(f"select count(*) as n from mart.{mart}")[0]["n"] >= 0
