"""The project form's raw tables (项目支出绩效自评表): the columns and types of its frames and of raw.project_*.

A form's partition is (year, project_key): a corrected form replaces that project only.
project_key is the form's 项目编码 when it prints one, else 实施单位 and 项目名称
(see identity() below). Money is Decimal(18,2) 元 whatever unit the form prints
(万元 forms are converted exactly), rates are fractions, points have four decimals
as read (scores are awarded to two decimals in SQL, item by item).
"""

from __future__ import annotations

import polars as pl

from jixiao.ingest.frames import MONEY, POINTS, RATE, VALUE

_SOURCE = {"year": pl.Int32, "project_key": pl.String, "src_file": pl.String, "src_sheet": pl.String}

TABLES: dict[str, dict[str, pl.DataType]] = {
    # one row per form
    "project_forms": {
        **_SOURCE,
        "form_no": pl.Int32,  # the form's place among the project forms of its workbook, from 1
        "title_year": pl.Int32,  # the year the title prints (（2022年度）); must equal the folder's
        "project": pl.String, "project_code": pl.String,
        "dept_name": pl.String,  # 主管部门
        "unit_name": pl.String, "unit_code": pl.String,  # 实施单位; a code written as its prefix
        "money_unit": pl.String,  # 万元 or 元, as the funds block's header prints it
        "goal_target": pl.String, "goal_actual": pl.String,  # 年度总体目标: 预期目标, 实际完成情况
        "conclusion": pl.String, "problems": pl.String, "improvements": pl.String, "remarks": pl.String,
        "total_weight": POINTS, "reported_total": POINTS,  # 总分 row: its 分值 (100) and the stated total
        "total_cell": pl.String,  # A1 of the stated 总分
        "ruleset": pl.String,
    },
    # one row per row of the funds block
    "project_fund_rows": {
        **_SOURCE, "src_row": pl.Int32,
        "source": pl.String,  # 年度资金总额, 当年财政拨款, 上年结转资金, 其他资金 (canonical)
        "label": pl.String,  # as printed (其中：本年财政拨款…)
        "initial_budget_yuan": MONEY,  # 年初预算数
        "budget_yuan": MONEY,  # 全年预算数 (A)
        "spent_yuan": MONEY,  # 全年执行数 (B)
        "weight": POINTS,  # 分值 (年度资金总额 only: 10 on most forms, 20 on Hubei's)
        "reported_rate": RATE, "reported_score": POINTS,  # 执行率 and 得分 as printed
        "budget_cell": pl.String, "spent_cell": pl.String, "rate_cell": pl.String, "score_cell": pl.String,
    },
    # one row per indicator
    "project_indicators": {
        **_SOURCE, "src_row": pl.Int32, "indicator_no": pl.Int32,
        "level1": pl.String,  # 产出指标 (named from the footnote when the cell gives only （50分）)
        "level1_weight": POINTS,  # from 产出指标（50分）, or the footnote
        "level2": pl.String, "indicator": pl.String,  # 三级 name, 指标1： prefix stripped
        "nature": pl.String, "measure_unit": pl.String,  # 指标性质, 度量单位 where printed apart
        "target_text": pl.String, "target_value": VALUE, "target_unit": pl.String,
        "target_comparator": pl.String, "direction": pl.String,  # higher, lower, qualitative, not_applicable
        "actual_text": pl.String, "actual_value": VALUE, "actual_unit": pl.String,
        "actual_direction": pl.String, "actual_met": pl.Boolean,
        "weight": POINTS, "reported_score": POINTS,  # 分值, 得分 as printed
        "deviation": pl.String,  # 偏差原因分析及改进措施
        "actual_cell": pl.String, "weight_cell": pl.String, "score_cell": pl.String,
    },
}

PARTITION = ("year", "project_key")


def identity(project_code: str | None, unit_name: str | None, project: str | None) -> str | None:
    """A project is its 项目编码 where the form gives one, else (实施单位, 项目名称)."""
    if project_code:
        return f"code:{project_code}"
    if unit_name and project:
        return f"name:{unit_name}｜{project}"
    return None
