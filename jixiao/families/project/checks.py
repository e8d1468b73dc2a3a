"""Checks across a project form's rows and across the year's forms: weights that must add up,
points lost on a not-applicable indicator, and two forms of one project.

They work on the year's frames at once (a province files a hundred thousand forms); each
failure is a Finding naming the form's file, sheet and cell.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from jixiao.check.validate import explain, schema_failures
from jixiao.domain import Finding, ProjectForm, with_same_identity
from jixiao.families.project import labels as L
from schemas.project_forms import ProjectFormSchema, ProjectFundRowSchema, ProjectIndicatorSchema

FULL_MARKS = Decimal(100)

SCHEMAS = {"project_forms": ProjectFormSchema, "project_fund_rows": ProjectFundRowSchema,
           "project_indicators": ProjectIndicatorSchema}
# frame column -> (the frame's column holding its cell, what the form calls it); a form's own
# figures (project_forms) have their cells in ProjectForm.cells, keyed by the column's name.
_FUNDS, _INDICATORS = L.FUNDS_COLUMNS, L.INDICATOR_COLUMNS
LABELS = {
    "year": (None, "年度"), "project": (None, L.HEADER["project"][0]), "unit_name": (None, L.HEADER["unit_name"][0]),
    "dept_name": (None, L.HEADER["dept_name"][0]), "total_weight": (None, f"{L.TOTAL[0]}的分值"),
    "initial_budget_yuan": (None, _FUNDS["initial"][0]), "budget_yuan": ("budget_cell", _FUNDS["budget"][0]),
    "spent_yuan": ("spent_cell", _FUNDS["spent"][0]), "weight": ("weight_cell", _FUNDS["weight"][0]),
    "indicator_no": (None, "指标序号"), "indicator": (None, _INDICATORS["indicator"][0]),
    "direction": (None, "指标方向"),
}
_ROWS = {"project_forms": "自评表", "project_fund_rows": "资金行", "project_indicators": "绩效指标"}


def schema_findings(frames: dict[str, pl.DataFrame], forms: list[ProjectForm]) -> list[Finding]:
    """The project tables' pandera schemas over the year's forms at once; each failure names its cell."""
    by_form = {(f.file, f.sheet): f for f in forms}
    findings = []
    for table, _, row, column, found, case in schema_failures(frames, SCHEMAS):
        value = None if found is None else str(found)
        rule, message = explain(table, column, case["check"], value or "", LABELS, _ROWS)
        cell_column = LABELS.get(column, (None,))[0]
        form = by_form.get((row.get("src_file"), row.get("src_sheet")))
        cell = (row.get(cell_column) if cell_column else None) or (
            form.cells.get(column) if form and table == "project_forms" else None) or (
            f"第{row['src_row']}行" if row.get("src_row") else None)
        findings.append(Finding("error", f"project.{rule}", message, row.get("src_file", ""), row.get("src_sheet"),
                                cell, value, project_key=row.get("project_key")))
    return findings


DUPLICATE_FORM = "project.duplicate"


def duplicate_forms(forms: list[ProjectForm]) -> None:
    """Two forms with one identity in a year are an error on both (project.duplicate)."""
    for form, twins in with_same_identity(forms, lambda f: f.project_key):
        others = "、".join(f"{o.file} › {o.sheet}" for o in twins)
        form.error(DUPLICATE_FORM,
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
