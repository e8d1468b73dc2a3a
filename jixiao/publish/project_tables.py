"""The project forms' tables as data (see tables.py): the year's and a 主管部门's roll-up
(项目支出绩效自评结果汇总表), the distribution of scores and execution rates, and each form
redrawn in its own layout (项目资金 and 绩效指标).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import polars as pl

from jixiao.publish.display import round_half_up
from jixiao.publish.tables import PERCENT, SCORE, WAN, WEIGHT, Column, ReportTable, _continuations, name_or_unnamed

ROLLUP_TITLE = "项目支出绩效自评结果汇总表"


def form_id(project_key: str) -> str:
    """A form's file stem: stable, and safe on any file system whatever the project's name holds."""
    return "form-" + hashlib.sha1(project_key.encode()).hexdigest()[:12]


def _rollup_columns(with_dept: bool) -> list[Column]:
    return [
        *([Column("dept_name", "主管部门")] if with_dept else []),
        Column("unit_name", "实施单位"), Column("project", "项目名称"),
        Column("budget_yuan", "全年预算数（万元）", WAN), Column("spent_yuan", "全年执行数（万元）", WAN),
        Column("execution_rate", "执行率", PERCENT), Column("total_score", "自评得分", SCORE),
        Column("grade", "等级"), Column("warnings", "核对问题（条）", WEIGHT),
    ]


def shape_rollup(rows: pl.DataFrame, year: int, source: str, dept_name: str | None = None) -> ReportTable:
    """Each project, its budget, spending, 执行率, score, grade and findings: for the year, or one 主管部门."""
    lines = [{**r, "unit_name": name_or_unnamed(r["unit_name"]), "project": name_or_unnamed(r["project"])}
             for r in rows.iter_rows(named=True)]
    scope = f"（{dept_name}）" if dept_name else ""
    return ReportTable(
        key="rollup", sheet="汇总表", id=f"project-rollup-{year}-{form_id(dept_name or '')}",
        title=f"{year}年度{ROLLUP_TITLE}{scope}", columns=_rollup_columns(dept_name is None),
        rows=lines, source=source)


SCORE_BANDS = (("优（90分及以上）", Decimal(90)), ("良（80–90分）", Decimal(80)), ("中（60–80分）", Decimal(60)),
               ("差（60分以下）", Decimal(0)))
RATE_BANDS = (("100%及以上", Decimal(1)), ("90%–100%", Decimal("0.9")), ("60%–90%", Decimal("0.6")),
              ("60%以下", Decimal(0)))


def band_counts(values: list[Any], bands: tuple[tuple[str, Decimal], ...], places: int) -> list[int]:
    """How many values fall in each band (lower bounds, highest first), judged as the tables show them."""
    counts = [0] * len(bands)
    for value in values:
        if value is None:
            continue
        shown = round_half_up(value, places)
        counts[next(i for i, (_, low) in enumerate(bands) if shown >= low or low == 0)] += 1
    return counts


def shape_distribution(rows: pl.DataFrame, year: int, source: str) -> ReportTable:
    """The year's forms by score band and by execution-rate band (drawn as bars in HTML)."""
    scores = band_counts(rows["total_score"].to_list(), SCORE_BANDS, 2)
    rates = band_counts(rows["execution_rate"].to_list(), RATE_BANDS, 4)
    lines = [{"band": label, "count": n, "kind": "自评得分"} for (label, _), n in zip(SCORE_BANDS, scores, strict=True)]
    lines += [{"band": label, "count": n, "kind": "预算执行率"} for (label, _), n in zip(RATE_BANDS, rates, strict=True)]
    return ReportTable(
        key="distribution", sheet="分布", id=f"project-distribution-{year}",
        title=f"{year}年度项目自评得分与预算执行率分布",
        columns=[Column("kind", "分类"), Column("band", "区间"), Column("count", "项目数（个）", WEIGHT)],
        rows=lines, source=source, group="kind")


def shape_form_funds(form: dict[str, Any], funds: pl.DataFrame, source: str) -> ReportTable:
    """项目资金: the funds block as the form prints it, with the recomputed 执行率 and 得分."""
    lines = []
    for r in funds.iter_rows(named=True):
        total = r["source"] == "年度资金总额"
        lines.append({
            "label": r["label"] or r["source"], "initial": r["initial_budget_yuan"], "budget": r["budget_yuan"],
            "spent": r["spent_yuan"], "weight": r["weight"] if total else None,
            "rate": r["execution_rate"], "score": form["budget_score"] if total else None,
        })
    return ReportTable(
        key="funds", sheet="项目资金", id=f"{form_id(form['project_key'])}-funds",
        title="项目资金（万元）",
        columns=[Column("label", "资金来源"), Column("initial", "年初预算数", WAN), Column("budget", "全年预算数", WAN),
                 Column("spent", "全年执行数", WAN), Column("weight", "分值", WEIGHT), Column("rate", "执行率", PERCENT),
                 Column("score", "得分", SCORE)],
        rows=lines, source=source)


def shape_form_indicators(form: dict[str, Any], indicators: pl.DataFrame, source: str) -> ReportTable:
    """绩效指标: one row per indicator, 一级 and 二级 merged down as printed, the score as the rules award it."""
    lines = [
        {"level1": r["level1"] or "", "level2": r["level2"] or "", "indicator": name_or_unnamed(r["indicator"]),
         "target": r["target_text"] or "", "actual": r["actual_text"] or "", "weight": r["weight"],
         "score": r["score"], "deviation": r["deviation"] or ""}
        for r in indicators.iter_rows(named=True)
    ]
    level1 = [r["level1"] for r in lines]
    level2 = [(r["level1"], r["level2"]) for r in lines]
    total = {"level1": "总分", "level2": "", "indicator": "", "target": "", "actual": "",
             "weight": form["total_weight"], "score": form["total_score"], "deviation": ""}
    return ReportTable(
        key="indicators", sheet="绩效指标", id=f"{form_id(form['project_key'])}-indicators",
        title="年度绩效指标完成情况",
        columns=[Column("level1", "一级指标"), Column("level2", "二级指标"), Column("indicator", "三级指标"),
                 Column("target", "年度指标值"), Column("actual", "实际完成值"), Column("weight", "分值", WEIGHT),
                 Column("score", "得分", SCORE), Column("deviation", "偏差原因分析及改进措施")],
        rows=[*lines, total], source=source,
        merged=[(("level1",), _continuations(level1)), (("level2",), _continuations(level2))], totals=[len(lines)])


def form_header(form: dict[str, Any]) -> list[tuple[str, str]]:
    """The form's header and texts as (label, value), in the form's order."""
    return [(label, form.get(key) or "") for key, label in (
        ("project", "项目名称"), ("dept_name", "主管部门"), ("unit_name", "实施单位"), ("project_code", "项目编码"),
        ("goal_target", "年度总体目标（预期目标）"), ("goal_actual", "年度总体目标（实际完成情况）"),
        ("conclusion", "评价结论"), ("problems", "存在问题"), ("improvements", "改进措施"), ("remarks", "注"))
        if form.get(key) or key in ("project", "dept_name", "unit_name")]

