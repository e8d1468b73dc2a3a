"""The report's sentences, written from the marts in the report's own phrasing.

Pure functions of mart rows (dicts): the figures come out of jixiao.publish.display, so a
sentence always says what the tables show (4,796.60万元, 97.65%, 91.54分). The
phrasing follows the 2022 report of 区残联 (../shared/seed); a department refers
to itself as the report does (我会, 我局…), see `self_reference`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from jixiao.publish.display import fmt_number, fmt_percent, fmt_score, fmt_wan, round_half_up
from jixiao.publish.tables import is_low, name_or_unnamed, unnumbered

Row = Mapping[str, Any]

# Longest suffix first: 联合会 before 会, 办公室 before 室.
_SELF = (
    ("联合会", "我会"), ("委员会", "我委"), ("协会", "我会"), ("办公室", "我办"), ("办事处", "我处"),
    ("中心", "我中心"), ("会", "我会"), ("局", "我局"), ("委", "我委"), ("办", "我办"), ("院", "我院"),
    ("所", "我所"), ("站", "我站"), ("馆", "我馆"), ("处", "我处"), ("厅", "我厅"), ("部", "我部"),
    ("队", "我队"), ("署", "我署"), ("校", "我校"), ("园", "我园"),
)
_BRACKETED = re.compile(r"[（(][^（）()]*[）)]\s*$")


def self_reference(dept_name: str | None) -> str:
    """How a department names itself in its report: 区残联 (…联合会) → 我会, …教育局 → 我局."""
    name = (dept_name or "").strip()
    while _BRACKETED.search(name):  # 番禺区教育局（试点） is still a 局
        name = _BRACKETED.sub("", name).strip()
    return next((ref for suffix, ref in _SELF if name.endswith(suffix)), "我单位")


def _short(summary: Row) -> str:
    return summary.get("dept_short_name") or summary["dept_name"]


def _count(n: Any) -> str:
    return fmt_number(n or 0)


def _percent_target(rate: Any) -> str:
    """A target as people write it: 92%, 95.5%, not 92.00%."""
    return fmt_number(Decimal(rate).scaleb(2)) + "%"


def task_sentence(summary: Row, tasks: Iterable[Row]) -> str | None:
    """一、(二): the key tasks, introducing 表1-1."""
    labels = [name_or_unnamed(unnumbered(t["task"])) for t in tasks]
    if not labels:
        return None
    return (f"{summary['year']}年{self_reference(summary['dept_name'])}重点工作任务包括"
            f"{'、'.join(labels)}，各重点工作任务完成情况见表1-1。")


def budget_sentence(summary: Row, profile: Row | None = None) -> str:
    """一、(三): 全年预算数…财政拨款支出…完成年度预算的97.65%, and the spending target if one is set."""
    profile = profile or {}
    parts = [f"全年预算数{fmt_wan(summary['budget_yuan'])}万元"]
    if profile.get("revenue_yuan") is not None:
        parts.append(f"财政拨款收入{fmt_wan(profile['revenue_yuan'])}万元")
    parts.append(f"财政拨款支出{fmt_wan(summary['spent_yuan'])}万元")
    parts.append(f"完成年度预算的{fmt_percent(summary['execution_rate'])}")
    text = f"{_short(summary)}{summary['year']}年度" + "，".join(parts) + "。"
    target = profile.get("spend_target_rate")
    if target is not None and summary.get("execution_rate") is not None:
        # Compared as printed, like every other rate of the report.
        met = round_half_up(summary["execution_rate"], 4) >= round_half_up(target, 4)
        text += (f"{summary['year']}年部门整体支出绩效目标为预算经费使用率达{_percent_target(target)}，"
                 f"{summary['year']}年支出进度目标{'已达成' if met else '未达成'}。")
    return text


def indicator_set_sentence(summary: Row) -> str:
    """一、(四): how many output and effect indicators, introducing 表1-2."""
    return (f"{summary['year']}年{self_reference(summary['dept_name'])}部门整体绩效目标共设置"
            f"{_count(summary['output_indicators'])}个产出指标和{_count(summary['effect_indicators'])}个效益指标，"
            "各项绩效指标见表1-2。")


def score_sentence(summary: Row, profile: Row | None = None) -> str:
    """二、(一): the self-evaluation score (得分91.54分) and its grade, introducing 表2-1."""
    subunits = (profile or {}).get("subunits")
    with_units = f"（含下属单位{_count(subunits)}个）" if subunits else ""
    grade = f"，自评等级为“{summary['grade']}”" if summary.get("grade") else ""
    return (f"{summary['year']}年{_short(summary)}部门整体支出绩效自评{with_units}"
            f"得分{fmt_score(summary['total_score'])}分{grade}，自评指标得分情况见表2-1。")


def indicator_result_sentence(summary: Row) -> str:
    """二、(二): 共设置18个工作任务绩效目标，其中11个指标完成率大于等于100%…, introducing 表2-2."""
    text = (f"{summary['year']}年{self_reference(summary['dept_name'])}共设置"
            f"{_count(summary['indicators_total'])}个工作任务绩效目标，"
            f"其中{_count(summary['indicators_ge_100'])}个指标完成率大于等于100%，"
            f"{_count(summary['indicators_90_100'])}个指标完成率在90%-100%之间，"
            f"{_count(summary['indicators_lt_90'])}个指标完成率小于90%")
    # Like the report, qualitative and not-applicable indicators are named only when there are any.
    if summary.get("indicators_qualitative"):
        text += f"，{_count(summary['indicators_qualitative'])}个为定性指标"
    text += "。"
    if summary.get("indicators_not_applicable"):
        text += f"另有{_count(summary['indicators_not_applicable'])}个指标不适用，未计入。"
    return text


def low_indicator_sentence(indicators: Iterable[Row]) -> str | None:
    """The indicators below 90%, each with its rate; None when every indicator reached 90%."""
    low = [i for i in indicators if i["bucket"] == "<90%"]
    if not low:
        return None
    listed = "；".join(f"{name_or_unnamed(i['indicator'])}（{fmt_percent(i['completion_rate'])}）" for i in low)
    return f"完成率小于90%的指标共{len(low)}个：{listed}。"


def project_sentence(summary: Row) -> str:
    """二、(三): the key-task projects' totals, introducing 表2-3."""
    return (f"{summary['year']}年{self_reference(summary['dept_name'])}重点任务项目预算总额"
            f"{fmt_wan(summary['project_budget_yuan'])}万元，项目支出总额{fmt_wan(summary['project_spent_yuan'])}万元，"
            f"预算完成率{fmt_percent(summary['project_spend_rate'])}，各重点任务项目支出完成情况见表2-3。")


def low_project_sentence(projects: Iterable[Row]) -> str:
    """The projects whose 预算完成率 shows below 90%, each with its rate."""
    low = [p for p in projects if is_low(p["spend_rate"])]
    if not low:
        return "各项目预算完成率均不低于90%。"
    listed = "；".join(f"{name_or_unnamed(p['project'])}（{fmt_percent(p['spend_rate'])}）" for p in low)
    return f"预算完成率低于90%的项目共{len(low)}个：{listed}。"


# Where the sentences go: (section, subsection, sentence keys, the table they introduce),
# in the report's order.
OUTLINE = (
    ("一、基本情况", "（二）年度总体工作和重点工作任务", ("tasks",), "table_1_1"),
    ("一、基本情况", "（三）部门整体收支情况", ("budget",), None),
    ("一、基本情况", "（四）部门整体绩效管理情况", ("indicator_set",), "table_1_2"),
    ("二、综合评价分析", "（一）自评结论综述", ("score",), "table_2_1"),
    ("二、综合评价分析", "（二）各项工作任务绩效目标完成情况分析", ("indicator_result", "low_indicators"), "table_2_2"),
    ("二、综合评价分析", "（三）各重点任务项目支出完成情况分析", ("projects", "low_projects"), "table_2_3"),
)


def report_sentences(
    summary: Row,
    profile: Row | None,
    tasks: Iterable[Row],
    indicators: Iterable[Row],
    projects: Iterable[Row],
) -> dict[str, str]:
    """Every sentence of one department-year, keyed as in OUTLINE, in the report's order."""
    tasks = sorted(tasks, key=lambda t: t["task_no"])
    sentences = {
        "tasks": task_sentence(summary, tasks),
        "budget": budget_sentence(summary, profile),
        "indicator_set": indicator_set_sentence(summary),
        "score": score_sentence(summary, profile),
        "indicator_result": indicator_result_sentence(summary),
        "low_indicators": low_indicator_sentence(sorted(indicators, key=lambda i: i["indicator_no"])),
        "projects": project_sentence(summary),
        "low_projects": low_project_sentence(sorted(projects, key=lambda p: (p["task_no"], p["project_no"]))),
    }
    return {key: text for key, text in sentences.items() if text}
