"""Checks across a project form's rows and across the year's forms: weights that must add up,
points lost on a not-applicable indicator, and two forms of one project.

They work on the year's frames at once (a province files a hundred thousand forms); each
failure is a Finding naming the form's file, sheet and cell.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import polars as pl

from jixiao.domain import Finding, ProjectForm

FULL_MARKS = Decimal(100)


def duplicate_forms(forms: list[ProjectForm]) -> None:
    """Two forms with one identity in a year are an error on both (project.duplicate)."""
    counts = Counter(f.project_key for f in forms if f.project_key)
    for form in forms:
        if counts[form.project_key] > 1:
            others = "、".join(f"{o.file} › {o.sheet}" for o in forms if o.project_key == form.project_key and o is not form)
            form.error("project.duplicate",
                       f"同一项目在本年度有多张自评表（另见 {others}）；每个项目每年只能提交一张，请删除多余的一张",
                       form.sheet, form.cells.get("project"), form.info.get("project"))


def weight_findings(frames: dict[str, pl.DataFrame]) -> list[Finding]:
    """Indicators' 分值 must add up to their 一级's, and the 一级 and the budget item's 分值 to 100."""
    indicators, funds, forms = frames["project_indicators"], frames["project_fund_rows"], frames["project_forms"]
    findings = []
    level1 = (indicators.filter(pl.col("level1_weight").is_not_null())
              .group_by("project_key", "src_file", "src_sheet", "level1", maintain_order=True)
              .agg(pl.col("level1_weight").first(), pl.col("weight").sum().alias("weights"),
                   pl.col("weight_cell").first().alias("cell")))
    for row in level1.filter(pl.col("weights") != pl.col("level1_weight")).iter_rows(named=True):
        findings.append(Finding(
            "error", "project.level1_weights",
            f"“{row['level1']}”下各三级指标分值合计 {_points(row['weights'])}，与该一级指标分值 "
            f"{_points(row['level1_weight'])} 不一致；请核对各指标分值",
            row["src_file"], row["src_sheet"], row["cell"], _points(row["weights"]), project_key=row["project_key"]))
    budget = funds.filter(pl.col("source") == "年度资金总额").select("project_key", pl.col("weight").alias("budget"))
    # 一级 weights as printed, else the sum of their indicators' 分值
    levels = (indicators.group_by("project_key", "level1")
              .agg(pl.coalesce(pl.col("level1_weight").first(), pl.col("weight").sum()).alias("points"))
              .group_by("project_key").agg(pl.col("points").sum()))
    totals = (forms.select("project_key", "src_file", "src_sheet", "total_cell", "total_weight")
              .join(levels, on="project_key", how="left").join(budget, on="project_key", how="left")
              .with_columns((pl.col("points").fill_null(0) + pl.col("budget").fill_null(0)).alias("sum")))
    for row in totals.filter(pl.col("sum") != FULL_MARKS).iter_rows(named=True):
        findings.append(Finding(
            "error", "project.weights_total",
            f"各一级指标分值与预算执行率分值合计 {_points(row['sum'])}，不等于 100 分；请核对分值",
            row["src_file"], row["src_sheet"], row["total_cell"], _points(row["sum"]), project_key=row["project_key"]))
    return findings


def lost_points(frames: dict[str, pl.DataFrame]) -> list[Finding]:
    """A not-applicable indicator with a 分值 loses its points (they are not moved): a warning."""
    lost = frames["project_indicators"].filter(
        ((pl.col("direction") == "not_applicable") | (pl.col("actual_direction") == "not_applicable"))
        & (pl.col("weight") > 0))
    return [Finding("warning", "project.not_applicable_weighted",
                    f"指标“{row['indicator']}”不适用，但设有分值 {_points(row['weight'])}；该分值不计得分，"
                    "如该指标确不适用，请将其分值调整到其他指标",
                    row["src_file"], row["src_sheet"], row["weight_cell"], row["actual_text"],
                    project_key=row["project_key"])
            for row in lost.iter_rows(named=True)]


def _points(value) -> str:
    return "" if value is None else format(Decimal(value).normalize(), "f")
