"""Project forms scored by their rule sets, the SQL alone: hand-written raw rows, a DuckDB file in tmp_path.

Each case is one worked example of docs/rule-sets.md (the printed evidence of
../shared/research/domain-rules.md where one exists), so the docs and the SQL cannot drift apart.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal as D
from pathlib import Path

import polars as pl
import pytest

from jixiao.check.rulesets import RuleFileError, load_rulesets
from jixiao.families.project import PROJECT
from jixiao.families.project.tables import TABLES, identity
from jixiao.load.staging import Staging
from jixiao.load.warehouse import connect, replace_partitions
from jixiao.settings import PROJECT_ROOT

SQL = PROJECT_ROOT / "sql"
KEY = identity(None, "测试单位", "测试项目")
SOURCE = {"year": 2030, "project_key": KEY, "src_file": "p.xlsx", "src_sheet": "项目1"}


def frame(name: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{**SOURCE, **r} for r in rows], schema=TABLES[name], strict=False) if rows else pl.DataFrame(
        schema=TABLES[name])


def form(ruleset="national_project", **over) -> dict:
    return {"form_no": 1, "title_year": 2030, "project": "测试项目", "unit_name": "测试单位", "dept_name": "测试局",
            "money_unit": "元", "total_weight": D(100), "total_cell": "G30", "ruleset": ruleset, **over}


def funds(budget, spent, weight=D(10), rate=None, score=None) -> dict:
    return {"src_row": 6, "source": "年度资金总额", "label": "年度资金总额", "budget_yuan": budget, "spent_yuan": spent,
            "weight": weight, "reported_rate": rate, "reported_score": score, "rate_cell": "F6", "score_cell": "G6"}


def indicator(no, name, target, actual, weight, score=None, direction="higher", level1="产出指标", level2="数量指标",
              **over) -> dict:
    return {"src_row": 10 + no, "indicator_no": no, "level1": level1, "level2": level2, "indicator": name,
            "target_text": str(target), "target_value": target, "direction": direction,
            "actual_text": str(actual), "actual_value": actual,
            "actual_direction": "higher" if actual is not None else direction,
            "weight": weight, "reported_score": score, "score_cell": f"G{10 + no}", **over}


def load(tmp_path: Path, indicators: list[dict], fund_rows: list[dict] | None = None, rules_file: Path | None = None,
         **form_over):
    frames = {"project_forms": frame("project_forms", [form(**form_over)]),
              "project_fund_rows": frame("project_fund_rows", fund_rows if fund_rows is not None else [funds(D(100), D(100))]),
              "project_indicators": frame("project_indicators", indicators)}
    path = tmp_path / "w.duckdb"
    staging = Staging(tmp_path / "staging", PROJECT.tables)
    staging.add(frames)
    with connect(path) as con:
        replace_partitions(con, SQL, family=PROJECT,
                           partitions=pl.DataFrame({"year": [2030], "project_key": [KEY]},
                                                   schema={"year": pl.Int32, "project_key": pl.String}),
                           staging=staging, rules=load_rulesets(extra=rules_file).rules, run_id="r1")

    def q(sql: str) -> list[dict]:
        with connect(path, read_only=True) as con:
            return con.sql(sql).pl().to_dicts()
    return q


def test_budget_item_is_its_printed_weight_times_the_execution_rate(tmp_path):
    # Langfang's form: 37.24 spent of 43.2 is 86.20 %; 10 × 86.20 % = 8.62 (the form printed 9)
    q = load(tmp_path, [indicator(1, "数量", D(10), D(10), D(90))],
             [funds(D("432000"), D("372400"), rate=D("0.86"), score=D(9))])
    row = q("select * from mart.project_evaluation")[0]
    assert row["execution_rate"].quantize(D("0.0001")) == D("0.8620")
    assert row["budget_score"] == D("8.62")
    checks = {r["figure_key"]: r for r in q("select * from audit.project_reconciliation")}
    assert checks["execution_rate"]["status"] == "match"  # 86.20 % printed as 86 %: its own precision
    assert checks["budget_score"]["status"] == "mismatch" and checks["budget_score"]["cell"] == "G6"


def test_hubei_budget_weight_20_is_taken_from_the_form(tmp_path):
    q = load(tmp_path, [indicator(1, "数量", D(10), D(10), D(80))], [funds(D(880), D(880), weight=D(20))])
    assert q("select budget_score from mart.project_evaluation")[0]["budget_score"] == D(20)


def test_a_budget_score_printed_0_where_10_is_due_is_a_mismatch(tmp_path):
    q = load(tmp_path, [indicator(1, "数量", D(10), D(10), D(90), score=D(90))],
             [funds(D(500), D(500), rate=D(1), score=D(0))], reported_total=D(90))
    checks = {r["figure_key"]: r for r in q("select * from audit.project_reconciliation")}
    assert checks["budget_score"]["computed_value"] == D(10) and checks["budget_score"]["status"] == "mismatch"
    assert checks["total_score"]["computed_value"] == D(100) and checks["total_score"]["status"] == "mismatch"


def test_an_empty_execution_rate_beside_880_of_880_is_missing(tmp_path):
    q = load(tmp_path, [indicator(1, "数量", D(10), D(10), D(90))], [funds(D(880), D(880), rate=None, score=D(10))])
    rate = [r for r in q("select * from audit.project_reconciliation") if r["figure_key"] == "execution_rate"][0]
    assert rate["status"] == "missing" and rate["computed_value"] == D(1) and rate["cell"] == "F6"


def test_proportional_indicators_met_full_marks_else_in_proportion_and_reverse(tmp_path):
    q = load(tmp_path, [
        indicator(1, "培训人数", D(100), D(120), D(20), score=D("19.6")),  # met: 20, though printed 19.6
        indicator(2, "覆盖率", D(100), D("72.74"), D(20), score=D(20)),  # 20 × 72.74 % = 14.548 → 14.55
        indicator(3, "单位成本", D(50), D(80), D(10), direction="lower"),  # 10 × 50/80 = 6.25
        indicator(4, "事故数", D(3), D(0), D(10), direction="lower"),  # an actual of 0 beats any ≤ target
        indicator(5, "群众满意", None, None, D(30), score=D(27), direction="qualitative", level1="满意度指标",
                  actual_text="达成预期目标", actual_met=True),
    ], [funds(D(100), D(100))], reported_total=D("96.6"))
    scores = {r["indicator"]: r for r in q("select * from mart.project_indicator_score")}
    assert {name: r["score"] for name, r in scores.items()} == {
        "培训人数": D(20), "覆盖率": D("14.55"), "单位成本": D("6.25"), "事故数": D(10), "群众满意": D(27)}
    assert scores["群众满意"]["method"] == "entered" and scores["覆盖率"]["method"] == "proportional"
    total = q("select total_score, indicator_score, budget_score from mart.project_evaluation")[0]
    assert total["total_score"] == total["indicator_score"] + total["budget_score"] == D("87.80")


def test_a_qualitative_score_outside_its_wordings_tier_is_flagged(tmp_path):
    q = load(tmp_path, [
        indicator(1, "数量", D(10), D(10), D(60)),
        indicator(2, "效果", None, None, D(30), score=D(29), direction="qualitative", level1="效益指标",
                  actual_text="部分达成", actual_met=None),
    ])
    check = [r for r in q("select * from audit.project_reconciliation") if r["figure_key"] == "qualitative_score"][0]
    assert check["status"] == "mismatch" and check["computed_value"] == D(24)  # 部分达成: at most 80 % of 30


def test_a_not_applicable_indicator_scores_nothing(tmp_path):
    q = load(tmp_path, [indicator(1, "数量", D(10), D(10), D(80)),
                        indicator(2, "不适用", None, None, D(10), direction="not_applicable")])
    row = [r for r in q("select * from mart.project_indicator_score") if r["indicator"] == "不适用"][0]
    assert row["score"] == 0 and row["method"] == "not_applicable"


BUREAU_RULES = """
project_default = "county"

[rulesets.county]
family = "project"
description = "某县口径"

[[rulesets.county.rules]]
applies = "budget"
method = "tiers"
tiers = [[0, 8], [10, 6], [20, 4], [30, 2]]
value = "actual"

[[rulesets.county.rules]]
applies = "indicator"
match = "在职人员控制率"
method = "penalty"
threshold = 100
per_point = 0.5

[[rulesets.county.rules]]
applies = "indicator"
match = "预算完成率"
method = "banded"
points = 2
step = 0.05

[[rulesets.county.rules]]
applies = "indicator"
level2s = ["数量指标"]
method = "share_met"
upper_band = 0.3
"""


def test_a_bureaus_own_rules_give_the_scores_they_say_with_the_method_recorded(tmp_path):
    rules = tmp_path / "county.toml"
    rules.write_text(BUREAU_RULES, encoding="utf-8")
    q = load(tmp_path, [
        indicator(1, "在职人员控制率", D(100), D(104), D(5), level2="效率指标"),  # 5 − 0.5 × 4 = 3
        indicator(2, "预算完成率", D(100), D("88"), D(8), level2="效率指标"),  # 12 % below: 2 whole 5 % steps → 4
        indicator(3, "培训", D(10), D(10), D(10)),  # met
        indicator(4, "宣传", D(10), D(14), D(10)),  # 40 % over: missed by the upper band
        indicator(5, "走访", D(10), D(8), D(10)),  # missed
        indicator(6, "其他", D(10), D(13), D(10)),  # 30 % over: met
    ], [funds(D(100), D(100), weight=D(8))], ruleset="county", rules_file=rules)
    scores = {r["indicator"]: (r["score"], r["method"]) for r in q("select * from mart.project_indicator_score")}
    assert scores == {"在职人员控制率": (D(3), "penalty"), "预算完成率": (D(4), "banded"),
                      "培训": (D(10), "share_met"), "宣传": (D(0), "share_met"), "走访": (D(0), "share_met"),
                      "其他": (D(10), "share_met")}  # 40 points × 2 met ÷ 4 counted: 20, one share of 10 to each met
    # the budget item's tiers read its execution rate in %: 100 % is past the last tier
    assert q("select budget_score from mart.project_evaluation")[0]["budget_score"] == 0


@pytest.mark.parametrize(("text", "line", "words"), [
    ("[rulesets.x]\nfamily = \"project\"\n\n[[rulesets.x.rules]]\nmethod = \"nosuch\"\n", 4, "method"),
    ("[rulesets.x]\nfamily = \"project\"\n[[rulesets.x.rules]]\nmethod = \"tiers\"\n", 3, "tiers"),
    ("[rulesets.x]\nfamily = \"project\"\n[[rulesets.x.rules]]\nmethod = \"penalty\"\nthreshold = \"a\"\nper_point = 1\n",
     3, "threshold"),
    ("[rulesets.x\n", 1, "格式"),
])
def test_a_malformed_rule_file_names_its_line(tmp_path, text, line, words):
    rules = tmp_path / "bad.toml"
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as raised:
        load_rulesets(extra=rules)
    assert f"line {line}" in str(raised.value) or f"第 {line} 行" in str(raised.value)
    assert words in str(raised.value)


def doc_examples() -> list[tuple[str, str]]:
    """(rule set, the block's text) of every ```toml example block of docs/rule-sets.md."""
    text = (PROJECT_ROOT / "docs" / "rule-sets.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```toml example\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [(re.search(r"^\[rulesets\.(\w+)\]", block, flags=re.MULTILINE)[1], block) for block in blocks]


@pytest.mark.parametrize(("name", "block"), doc_examples(), ids=[name for name, _ in doc_examples()])
def test_every_worked_example_of_the_docs_scores_as_it_says(tmp_path, name, block):
    rules = tmp_path / "example.toml"
    rules.write_text(block, encoding="utf-8")
    example = tomllib.loads(block)["example"]
    rows = []
    for no, case in enumerate(example.get("indicators", []), start=1):
        number = {key: None if case.get(key) is None else D(str(case[key])) for key in ("target", "actual", "weight",
                                                                                      "reported")}
        rows.append(indicator(no, case["name"], number["target"], number["actual"], number["weight"],
                              score=number["reported"], direction=case.get("direction", "higher"),
                              level2=case.get("level2", "数量指标")))
    budget = example.get("budget", {"weight": 10, "budget": 100, "spent": 100})
    q = load(tmp_path, rows, [funds(D(str(budget["budget"])), D(str(budget["spent"])), weight=D(str(budget["weight"])))],
             ruleset=name, rules_file=rules)
    scores = {r["indicator"]: (r["score"], r["method"]) for r in q("select * from mart.project_indicator_score")}
    method = tomllib.loads(block)["rulesets"][name]["rules"][0]["method"]
    for case in example.get("indicators", []):
        assert scores[case["name"]] == (D(str(case["score"])), method), case
    if "score" in budget:
        assert q("select budget_score from mart.project_evaluation")[0]["budget_score"] == D(str(budget["score"]))
