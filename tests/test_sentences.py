"""The report's sentences from mart rows, against the sentences of 区残联's own 2022 report.

SEED quotes the report (../shared/seed/000_fa6861cd34e91e59.txt) with the spaces
that PDF extraction put between Chinese text and numbers removed. The mart rows
below hold the figures the pipeline computes for the bundled workbook.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from jixiao.publish import sentences as s

SEED = {
    "budget": "根据《2022年收入支出决算总表》，区残联2022年度全年预算数4,796.60万元，财政拨款收入4,683.89万元，"
              "财政拨款支出4,683.89万元，完成年度预算的97.65%。2022年部门整体支出绩效目标为预算经费使用率达92%，"
              "2022年支出进度目标已达成。",
    "indicator_set": "2022年我会部门整体绩效目标共设置17个产出指标和1个效益指标，各项绩效指标见表1-2。",
    "score": "2022年区残联部门整体支出绩效自评（含下属单位1个）得分91.54分，部门整体支出绩效情况较为理想，"
             "总体上达到了全过程预算绩效管理的要求。",
    "indicator_result": "大力发展残疾人事业，2022年我会共设置18个工作任务绩效目标，其中11个指标完成率大于等于100%，"
                        "3个指标完成率在90%-100%之间，4个指标完成率小于90%。各项工作任务绩效目标完成情况如下表。",
    # The report's prose has a transposed digit here: its own 表2-3 adds up to 3,456.25.
    "projects": "2022年我会重点任务项目预算总额3549.27万元，项目支出总额3546.25万元，各重点任务项目支出完成情况见下表。",
}

SUMMARY = {
    "year": 2022, "dept_code": "PY-DPF", "dept_name": "广州市番禺区残疾人联合会", "dept_short_name": "区残联",
    "budget_yuan": D("47966000.00"), "spent_yuan": D("46838900.00"), "execution_rate": D("46838900") / D("47966000"),
    "indicators_total": 18, "indicators_ge_100": 11, "indicators_90_100": 3, "indicators_lt_90": 4,
    "indicators_qualitative": 0, "indicators_not_applicable": 0, "output_indicators": 17, "effect_indicators": 1,
    "projects": 23, "project_budget_yuan": D("35492700.00"), "project_spent_yuan": D("34562500.00"),
    "project_spend_rate": D("34562500") / D("35492700"), "total_score": D("91.540705882352"), "grade": "优",
}
PROFILE = {"revenue_yuan": D("46838900.00"), "spend_target_rate": D("0.92"), "subunits": 1}


def project(no: int, name: str, budget: str, spent: str, task_no: int = 1) -> dict:
    return {"task_no": task_no, "project_no": no, "project": name, "budget_yuan": D(budget) * 10000,
            "spent_yuan": D(spent) * 10000, "spend_rate": D(spent) / D(budget)}


# A slice of 表2-3 (万元): every project below 90%, and some around it.
PROJECTS = [
    project(1, "残疾人康复资助财政补贴项目（区级）", "444.62", "444.3"),
    project(2, "广州追加提前下达残疾人教育、就业、社会保障等财政补贴项目", "38.45", "8.6", 3),
    project(3, "广州追加提前下达残疾人教育就业社会保障等财政补贴项目", "161.62", "136.31", 3),
    project(1, "广州追加提前下达民办残疾人服务机构运营财政补助项目", "60.8", "34.71", 4),
    project(2, "民办残疾人服务机构资助项目", "12.06", "6.56", 4),
    project(2, "广州追加提前下达带棚残疾人机动轮椅车申购和报废回收财政补贴项目", "20.93", "17.97", 9),
    project(3, "开展残疾人儿童康复服务", "74.77", "74.74", 11),
]


def indicator(no: int, name: str, rate: D | None, bucket: str) -> dict:
    return {"indicator_no": no, "indicator": name, "completion_rate": rate, "bucket": bucket}


INDICATORS = [
    indicator(1, "残疾人康复资助例数", D(2749) / 1920, ">=100%"),
    indicator(5, "低保低收入家庭残疾人的托养护理费资助", D(34) / 40, "<90%"),
    indicator(6, "残疾人寄宿托养新增床位资助", D(58) / 90, "<90%"),
    indicator(7, "社会工作服务资助", D(2) / 6, "<90%"),
    indicator(10, "对区内持证残疾人进行春节慰问", D(15624) / 16200, "90-100%"),
    indicator(11, "城镇职工基本养老保险资助", D(80) / 95, "<90%"),
]


# --- the seed's own sentences --------------------------------------------------


def test_indicator_results_are_the_reports_sentence():
    assert s.indicator_result_sentence(SUMMARY) == (
        "2022年我会共设置18个工作任务绩效目标，其中11个指标完成率大于等于100%，"
        "3个指标完成率在90%-100%之间，4个指标完成率小于90%。"
    )
    assert s.indicator_result_sentence(SUMMARY) in SEED["indicator_result"]


def test_indicator_set_is_the_reports_sentence():
    assert s.indicator_set_sentence(SUMMARY) == SEED["indicator_set"]


def test_budget_paragraph_is_the_reports():
    sentence = s.budget_sentence(SUMMARY, PROFILE)
    assert SEED["budget"].endswith(sentence)
    assert sentence.startswith("区残联2022年度全年预算数4,796.60万元，")


def test_score_sentence_states_the_reports_score():
    sentence = s.score_sentence(SUMMARY, PROFILE)
    stated = "2022年区残联部门整体支出绩效自评（含下属单位1个）得分91.54分"
    assert sentence.startswith(stated + "，") and SEED["score"].startswith(stated + "，")
    assert "自评等级为“优”" in sentence


def test_project_totals_are_the_rows_not_the_reports_slip():
    sentence = s.project_sentence(SUMMARY)
    assert sentence == ("2022年我会重点任务项目预算总额3,549.27万元，项目支出总额3,456.25万元，"
                        "预算完成率97.38%，各重点任务项目支出完成情况见表2-3。")
    assert "3546.25" in SEED["projects"] and "3,546.25" not in sentence


def test_projects_below_90_percent_with_their_rates():
    assert s.low_project_sentence(PROJECTS) == (
        "预算完成率低于90%的项目共5个："
        "广州追加提前下达残疾人教育、就业、社会保障等财政补贴项目（22.37%）；"
        "广州追加提前下达残疾人教育就业社会保障等财政补贴项目（84.34%）；"
        "广州追加提前下达民办残疾人服务机构运营财政补助项目（57.09%）；"
        "民办残疾人服务机构资助项目（54.39%）；"
        "广州追加提前下达带棚残疾人机动轮椅车申购和报废回收财政补贴项目（85.86%）。"
    )


def test_indicators_below_90_percent_with_their_rates():
    assert s.low_indicator_sentence(INDICATORS) == (
        "完成率小于90%的指标共4个：低保低收入家庭残疾人的托养护理费资助（85.00%）；"
        "残疾人寄宿托养新增床位资助（64.44%）；社会工作服务资助（33.33%）；城镇职工基本养老保险资助（84.21%）。"
    )


def test_tasks_sentence_lists_the_tasks_without_their_numbers():
    tasks = [{"task_no": 1, "task": "开展残疾人康复资助、上门评残工作"},
             {"task_no": 2, "task": "任务2：开展精神康复综合服务中心运营项目"}]
    assert s.task_sentence(SUMMARY, tasks) == (
        "2022年我会重点工作任务包括开展残疾人康复资助、上门评残工作、开展精神康复综合服务中心运营项目，"
        "各重点工作任务完成情况见表1-1。"
    )
    assert s.task_sentence(SUMMARY, []) is None


# --- other departments ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("广州市番禺区残疾人联合会", "我会"),
        ("番禺区教育局（测试）", "我局"),
        ("番禺区卫生健康委员会", "我委"),
        ("广州市番禺区人民政府办公室", "我办"),
        ("番禺区疾病预防控制中心", "我中心"),
        ("番禺区人民法院", "我院"),
        ("番禺区某某", "我单位"),
        (None, "我单位"),
    ],
)
def test_a_department_names_itself_as_its_report_would(name, ref):
    assert s.self_reference(name) == ref


def test_qualitative_and_not_applicable_indicators_are_named_when_present():
    summary = SUMMARY | {"dept_name": "番禺区教育局", "indicators_total": 6, "indicators_ge_100": 2,
                         "indicators_90_100": 1, "indicators_lt_90": 1, "indicators_qualitative": 2,
                         "indicators_not_applicable": 1}
    assert s.indicator_result_sentence(summary) == (
        "2022年我局共设置6个工作任务绩效目标，其中2个指标完成率大于等于100%，1个指标完成率在90%-100%之间，"
        "1个指标完成率小于90%，2个为定性指标。另有1个指标不适用，未计入。"
    )


def test_budget_without_the_optional_figures():
    sentence = s.budget_sentence(SUMMARY, {})
    assert sentence == ("区残联2022年度全年预算数4,796.60万元，财政拨款支出4,683.89万元，"
                        "完成年度预算的97.65%。")
    assert s.score_sentence(SUMMARY, None).startswith("2022年区残联部门整体支出绩效自评得分91.54分，")


@pytest.mark.parametrize(
    ("execution", "target", "verdict"),
    [
        (D("0.976502"), D("0.92"), "已达成"),
        (D("0.899951"), D("0.9"), "已达成"),  # shown as 90.00%: the target as printed is met
        (D("0.899949"), D("0.9"), "未达成"),
    ],
)
def test_spending_target_is_judged_on_the_printed_rates(execution, target, verdict):
    sentence = s.budget_sentence(SUMMARY | {"execution_rate": execution}, {"spend_target_rate": target})
    assert sentence.endswith(f"2022年支出进度目标{verdict}。")


def test_no_project_below_90_percent():
    assert s.low_project_sentence(PROJECTS[:1]) == "各项目预算完成率均不低于90%。"
    assert s.low_indicator_sentence(INDICATORS[:1]) is None


def test_report_sentences_in_the_reports_order():
    tasks = [{"task_no": 2, "task": "乙"}, {"task_no": 1, "task": "甲"}]
    found = s.report_sentences(SUMMARY, PROFILE, tasks, INDICATORS, PROJECTS)
    assert list(found) == [key for _, _, keys, _ in s.OUTLINE for key in keys]
    assert "包括甲、乙，" in found["tasks"]
    without_tasks = s.report_sentences(SUMMARY, PROFILE, [], INDICATORS, PROJECTS)
    assert "tasks" not in without_tasks
