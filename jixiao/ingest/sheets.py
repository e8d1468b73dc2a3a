"""The contract's sheets: their names, aliases, columns and header synonyms.

This is the one place that knows how a department labels things; the reader
and the schemas look columns up here by their English key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from jixiao.ingest.numbers import compact, short_text_cache

Kind = Literal["text", "amount", "rate", "number", "value"]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: Kind = "text"
    required: bool = True
    synonyms: tuple[str, ...] = ()
    hierarchical: bool = False  # a blank (or merged) cell means "same as above"
    after: str | None = None  # for repeated headers (分值): the column it sits right of

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(compact(n) for n in (self.header, *self.synonyms))

    def matches(self, label: str) -> bool:
        """`label` is a compact header cell (jixiao.ingest.numbers.compact)."""
        return label in self.names


@dataclass(frozen=True)
class SheetSpec:
    key: str
    name: str
    aliases: tuple[str, ...]
    required: bool
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @cached_property
    def header_names(self) -> frozenset[str]:
        """Every compact label any of its columns answers to: most cells are none of them."""
        return frozenset().union(*(c.names for c in self.columns))

    def columns_of(self, label: str) -> tuple[Column, ...]:
        """The columns that answer to a compact header label, in order."""
        return self._columns_by_label.get(label, ())

    @cached_property
    def _columns_by_label(self) -> dict[str, tuple[Column, ...]]:
        return {name: tuple(c for c in self.columns if c.matches(name)) for name in self.header_names}

    @cached_property
    def header_initials(self) -> frozenset[str]:
        """The first character of every label in header_names."""
        return frozenset(name[0] for name in self.header_names if name)

    @cached_property
    def required_names(self) -> tuple[frozenset[str], ...]:
        """For each required column, the labels it answers to: a header row has one of each."""
        return tuple(c.names for c in self.columns if c.required)


BASIC = SheetSpec(
    "basic", "基本情况", ("部门基本情况", "基本信息"), True,
    (Column("label", "项目", synonyms=("指标", "名称")), Column("value", "值", synonyms=("数值", "内容", "填报值"))),
)
TASKS = SheetSpec(
    "tasks", "重点工作任务", ("表1-1", "重点工作任务完成情况"), False,
    (
        Column("task_no", "序号", "number", required=False),
        Column("task", "年度重点工作任务", synonyms=("重点工作任务", "工作任务")),
        Column("outcome", "完成情况", required=False),
    ),
)
INDICATORS = SheetSpec(
    "indicators", "绩效指标", ("表2-2", "绩效目标完成情况"), True,
    (
        Column("level1", "一级指标", hierarchical=True),
        Column("level2", "二级指标", hierarchical=True),
        Column("indicator", "三级指标", synonyms=("指标名称",)),
        Column("target", "指标值", "value", synonyms=("年度指标值", "目标值")),
        Column("actual", "实际完成值", "value", synonyms=("实际值", "完成值", "全年实际值")),
        Column("reported_rate", "完成率", "rate", required=False, synonyms=("指标完成率",)),
        Column("weight", "分值", "number", required=False, synonyms=("权重",)),
        Column("reported_score", "得分", "number", required=False, synonyms=("自评分",)),
    ),
)
PROJECTS = SheetSpec(
    "projects", "项目支出", ("表2-3", "重点任务项目支出"), True,
    (
        Column("task", "重点任务", hierarchical=True, synonyms=("重点工作任务",)),
        Column("project", "项目", synonyms=("项目名称",)),
        Column("budget", "预算金额", "amount", synonyms=("预算数", "预算")),
        Column("spent", "支出金额", "amount", synonyms=("支出数", "实际支出", "执行数")),
        Column("reported_rate", "预算完成率", "rate", required=False, synonyms=("执行率", "预算执行率")),
    ),
)
SCORES = SheetSpec(
    "scores", "自评得分", ("表2-1", "自评得分表"), True,
    (
        Column("level1", "一级指标", hierarchical=True),
        Column("level1_weight", "分值", "number", hierarchical=True, after="level1"),
        Column("level2", "二级指标", hierarchical=True),
        Column("level2_weight", "分值", "number", hierarchical=True, after="level2"),
        Column("item", "三级指标"),
        Column("weight", "分值", "number", after="item"),
        Column("reported_score", "自评分", "number", synonyms=("得分", "自评得分")),
    ),
)
REPORTED = SheetSpec(
    "reported", "报告数值", ("报告数据",), False,
    (Column("label", "项目", synonyms=("指标", "名称")), Column("value", "值", synonyms=("数值", "报告值"))),
)

SHEETS: tuple[SheetSpec, ...] = (BASIC, TASKS, INDICATORS, PROJECTS, SCORES, REPORTED)

# Rows whose first filled cell (or a label column) says this are stated totals, not data.
TOTAL_LABELS = frozenset({"合计", "总计", "总分", "合计数", "小计合计", "总合计", "合计金额"})
# A group's subtotal restates rows above it: kept as a note, never loaded as a project.
SUBTOTAL_LABELS = frozenset({"小计", "分项小计", "小计数"})
# A row whose only filled cell starts with these is a note under a table.
NOTE_PREFIXES = ("注", "备注", "说明", "附注")
# A row starting like this is a note whatever else it holds (填表人：… 联系电话：…). Matched on
# compact text, so "注：" arrives as "注:". A label like 注重… is not a note: the colon decides.
NOTE_WORDS = ("注", "备注", "说明", "附注", "填表说明")  # followed by a colon
SIGNATURE_WORDS = ("填表人", "填报人", "制表人", "审核人", "审核", "联系人", "联系电话", "负责人", "单位负责人", "分管领导",
                   "填报日期", "填表日期", "填报时间", "数据来源")
NOTE_LINE = re.compile(rf"^(?:{'|'.join(NOTE_WORDS)})[0-9]*[:.]|^(?:{'|'.join(SIGNATURE_WORDS)})")


class SheetSet:
    """The sheets of a form family, as the shared reader asks for them: by a sheet's name or alias."""

    def __init__(self, specs: tuple[SheetSpec, ...]) -> None:
        self.specs = specs
        self._by_name: dict[str, SheetSpec] = {}
        for spec in specs:
            for name in (spec.name, *spec.aliases):
                self._by_name.setdefault(compact(name), spec)  # the first, should two share one

    def spec_for(self, sheet_name: str) -> SheetSpec | None:
        return self._by_name.get(compact(sheet_name))


DEPARTMENT_SHEETS = SheetSet(SHEETS)


# 基本情况 keys: English key, label, required, kind. A label may carry a unit suffix.
BASIC_KEYS: tuple[tuple[str, str, bool, Kind], ...] = (
    ("dept_name", "部门名称", True, "text"),
    ("dept_short_name", "部门简称", False, "text"),
    ("dept_code", "部门编码", True, "text"),
    ("year", "年度", True, "number"),
    ("budget", "全年预算数", True, "amount"),
    ("revenue", "财政拨款收入", False, "amount"),
    ("spent", "财政拨款支出", True, "amount"),
    ("spend_target_rate", "预算经费使用率目标", False, "rate"),
    ("subunits", "下属单位数", False, "number"),
    ("ruleset", "评分规则", False, "text"),
)

# 报告数值 keys reconciled against computed figures: key, label, kind.
REPORTED_KEYS: tuple[tuple[str, str, str], ...] = (
    ("execution_rate", "完成年度预算比例", "rate"),
    ("total_score", "总得分", "score"),
    ("project_budget_yuan", "项目预算总额", "amount"),
    ("project_spent_yuan", "项目支出总额", "amount"),
    ("indicators_total", "工作任务绩效目标数", "count"),
    ("indicators_ge_100", "完成率≥100%指标数", "count"),
    ("indicators_90_100", "完成率90%-100%指标数", "count"),
    ("indicators_lt_90", "完成率<90%指标数", "count"),
    ("output_indicators", "产出指标数", "count"),
    ("effect_indicators", "效益指标数", "count"),
)


@short_text_cache
def strip_unit_suffix(label: str) -> str:
    """部门名称, 全年预算数（元）-> 全年预算数: the key without a bracketed unit."""
    return without_unit(compact(label))


def without_unit(text: str) -> str:
    """strip_unit_suffix of a text already compact."""
    cut = text.find("(")
    return text[:cut] if cut > 0 else text
