"""Synthetic departments' workbooks, for scale benchmarks and tests (`jixiao synth`).

Each workbook is a made-up department written by `jixiao_synth.workbook.write_workbook`
in a layout drawn at random from the tolerated ones. Its figures come from
numbers drawn here (kept beside the book as `Figure`s, so a test can recompute
what the pipeline must find), and the figures it states (报告数值, 合计/总分
rows, reported rates and scores) are computed from them the way a clerk would,
with an occasional slip. A given share of the workbooks is broken in a way the
pipeline must reject; `manifest.json` says which and why.

Everything is drawn from `random.Random` seeded by strings of (seed, department,
year), so a department's workbook does not depend on how many others are made,
on the order they are made in, or on the process that makes it: same seed, same
bytes. A department keeps its code, name, tasks, projects and indicators across
years; its amounts drift by a growth rate of its own.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import random
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from jixiao_synth.workbook import DepartmentBook, Indicator, Layout, Project, ScoreItem, Task, write_workbook

MANIFEST = "manifest.json"
# Drift is anchored to a fixed year so a department-year's numbers do not depend on the years asked for.
_ANCHOR_YEAR = 2020

_DISTRICTS = (
    "番禺区", "海珠区", "天河区", "越秀区", "荔湾区", "白云区", "黄埔区", "花都区", "南沙区", "从化区", "增城区",
    "福田区", "罗湖区", "南山区", "宝安区", "龙岗区", "禅城区", "南海区", "顺德区", "三水区", "高明区", "香洲区",
    "斗门区", "金湾区", "蓬江区", "江海区", "新会区", "端州区", "鼎湖区", "惠城区", "惠阳区", "莞城街道", "石龙镇",
    "浈江区", "武江区", "曲江区", "梅江区", "梅县区", "源城区", "江城区", "阳东区", "赤坎区", "霞山区", "茂南区",
)
# (name, short name)
_BUREAUS = (
    ("教育局", "教育局"), ("卫生健康局", "卫健局"), ("民政局", "民政局"), ("司法局", "司法局"), ("财政局", "财政局"),
    ("人力资源和社会保障局", "人社局"), ("住房和城乡建设局", "住建局"), ("交通运输局", "交通局"), ("水务局", "水务局"),
    ("农业农村局", "农业农村局"), ("文化广电旅游体育局", "文广旅体局"), ("城市管理和综合执法局", "城管局"),
    ("市场监督管理局", "市场监管局"), ("应急管理局", "应急局"), ("退役军人事务局", "退役军人局"), ("医疗保障局", "医保局"),
    ("科学技术局", "科技局"), ("工业和信息化局", "工信局"), ("统计局", "统计局"), ("审计局", "审计局"),
    ("档案馆", "档案馆"), ("残疾人联合会", "残联"), ("妇女联合会", "妇联"), ("总工会", "总工会"), ("团委", "团委"),
    ("政务服务数据管理局", "政数局"), ("生态环境分局", "生态环境分局"), ("规划和自然资源分局", "规划资源分局"),
    ("林业和园林局", "林园局"), ("商务局", "商务局"), ("发展和改革局", "发改局"), ("信访局", "信访局"),
    ("机关事务管理局", "机关事务局"), ("红十字会", "红会"), ("科学技术协会", "科协"), ("供销合作联社", "供销社"),
)
_SUBUNITS = ("街道办事处", "镇人民政府", "中学", "小学", "人民医院", "社区卫生服务中心", "图书馆", "文化馆", "疾病预防控制中心")
_STREETS = ("市桥", "沙头", "东环", "桥南", "大石", "洛浦", "石壁", "钟村", "南村", "新造", "化龙", "石楼", "石碁", "沙湾",
            "东涌", "榄核", "大岗", "横沥", "万顷沙", "龙穴", "珠江", "黄阁", "南沙")
_TOPICS = (
    "残疾人康复", "义务教育", "社区卫生服务", "居家养老服务", "城市环境卫生", "河涌整治", "农村饮水安全", "公共法律服务",
    "就业援助", "职业技能培训", "食品安全抽检", "安全生产检查", "消防设施维护", "道路养护", "公园绿地管护", "垃圾分类",
    "文物保护", "公共文化服务", "全民健身", "图书馆运营", "档案数字化", "统计调查", "审计监督", "政务服务", "网格化管理",
    "退役军人服务", "医疗救助", "低保救助", "临时救助", "困境儿童保障", "妇女儿童维权", "青少年服务", "科技创新券",
    "中小企业扶持", "农业技术推广", "动物防疫", "耕地保护", "森林防火", "防汛抗旱", "应急物资储备", "地质灾害防治",
    "污染源监测", "大气污染防治", "水质监测", "住房保障", "老旧小区改造", "燃气安全检查", "交通秩序整治", "公交线网优化",
    "校园安全", "学前教育", "特殊教育", "教师培训", "家庭医生签约", "疫苗接种", "慢性病管理", "精神卫生服务",
    "计划生育奖扶", "法治宣传", "人民调解", "社区矫正", "信访接待", "志愿服务", "社会组织培育", "慈善救助", "殡葬管理",
    "婚姻登记", "市场监管执法", "特种设备检验", "知识产权保护", "价格监测", "旅游推广", "非遗传承", "广播电视覆盖",
    "体育赛事", "红色文化传承", "乡村振兴", "人居环境整治", "高标准农田建设", "渔业资源养护",
)
_VERBS = ("开展", "推进", "做好", "完善", "加强", "落实", "实施", "深化")
_TASK_TAILS = ("工作", "项目", "", "建设", "服务", "专项行动")
_PROJECT_TAILS = ("专项经费", "工作经费", "运营补助", "财政补贴项目", "购买服务项目", "设备购置", "市级转移支付项目",
                  "维修改造工程", "宣传经费", "信息化建设经费")
_OUTCOMES = ("全年按计划完成", "较好完成年度目标", "服务质量稳步提升", "群众获得感明显增强", "资金使用规范高效")

_OUT, _EFFECT, _SATISFACTION = "产出指标", "效益指标", "满意度指标"
# (level1, level2) -> ((name suffix, kind, unit), ...); kinds are drawn into targets and actuals below.
_INDICATOR_KINDS: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    (_OUT, "数量指标"): (
        ("服务人次", "count", "人次"), ("覆盖户数", "count", "户"), ("资助人数", "count", "人"),
        ("举办活动场次", "count", "场"), ("完成项目数", "count", "个"), ("培训人次", "count", "人次"),
        ("检查次数", "count", "次"), ("发放补贴人数", "count", "名"), ("受益家庭数", "count", "户"),
        ("建设点位数", "count", "处"),
    ),
    (_OUT, "质量指标"): (
        ("合格率", "pct_higher", "%"), ("达标率", "pct_higher", "%"), ("验收通过率", "pct_higher", "%"),
        ("差错率", "pct_lower", "%"), ("投诉率", "pct_lower", "%"),
    ),
    (_OUT, "时效指标"): (
        ("资金拨付及时率", "pct_higher", "%"), ("办结时限", "days_lower", "个工作日"), ("按时完成率", "pct_higher", "%"),
    ),
    (_OUT, "成本指标"): (("成本控制率", "cost_rate", "%"), ("人均成本", "cost_lower", "元")),
    (_EFFECT, "社会效益指标"): (
        ("服务水平", "qualitative", ""), ("覆盖率", "pct_higher", "%"), ("群众知晓率", "pct_higher", "%"),
    ),
    (_EFFECT, "经济效益指标"): (("带动就业人数", "count", "人"),),
    (_EFFECT, "生态效益指标"): (("环境质量", "qualitative", ""),),
    (_EFFECT, "可持续影响指标"): (("长效机制运行", "qualitative", ""),),
    (_SATISFACTION, "服务对象满意度指标"): (("服务对象满意度", "satisfaction", "%"), ("群众满意度", "satisfaction", "%")),
}
_OUT_LEVEL2 = [k for k in _INDICATOR_KINDS if k[0] == _OUT]
_EFFECT_LEVEL2 = [k for k in _INDICATOR_KINDS if k[0] == _EFFECT]
BUDGET_INDICATOR = "预算经费使用率"  # the indicator panyu_share's budget item reads (jixiao/check/rulesets.toml)

# 表2-1 as the seed has it: (一级, 分值) -> (二级, 分值) -> ((三级, 分值), ...); 整体效能 is drawn per department.
_MANAGEMENT = {
    ("预算编制", 3): (("新增预算项目事前绩效评估", 3),),
    ("预算执行", 4): (("结转结余率", 2), ("财务管理合规性", 2)),
    ("信息公开", 4): (("预决算公开合规性", 2), ("绩效信息公开情况", 2)),
    ("绩效管理", 15): (("绩效管理制度建设", 5), ("绩效结果应用", 3), ("绩效管理制度执行", 7)),
    ("采购管理", 10): (("采购意向公开合规性", 0.5), ("采购需求管理", 1.5), ("采购内控制度建设", 1), ("采购活动合规性", 2),
                   ("采购合同签订时效性", 3), ("合同备案时效性", 1), ("采购政策效能", 1)),
    ("资产管理", 10): (("资产配置合规性", 2), ("资产收益上缴的及时性", 1), ("资产盘点情况", 1), ("数据质量", 2),
                   ("资产管理合规性", 2), ("固定资产利用率", 2)),
    ("运行成本", 4): (("公用经费控制率", 2), ("“三公”经费控制情况", 2)),
}
OUTPUT_ITEM, EFFECT_ITEM, BUDGET_ITEM = "部门整体绩效目标产出指标完成情况", "部门整体绩效目标效益指标完成情况", "部门预算资金支出率"
_EFFICACY_SPLITS = ((20, 20, 10), (25, 15, 10), (20, 15, 15), (30, 10, 10))

# How a workbook is broken: kind -> the rule id of the error the pipeline must report.
BROKEN_KINDS = {
    "negative_amount": "projects.budget_yuan.min",
    "text_amount": "number.not_a_number",
    "weights_sum": "scores.weights_sum",
    "unit_mismatch": "indicator.unit_mismatch",
    "score_above_weight": "scores.score_above_weight",
    "year_mismatch": "basic.year_mismatch",
    "missing_budget": "basic.key_missing",
    "duplicate_project": "projects.duplicate",
}


@dataclass(frozen=True)
class Figure:
    """What an indicator measures, as the numbers its texts were written from."""

    level1: str
    name: str
    kind: str  # higher, lower, qualitative, not_applicable
    target: Decimal | None = None
    actual: Decimal | None = None
    met: bool | None = None  # qualitative: True met, False not met, None for a person to judge
    weight: Decimal | None = None  # 分值 of the indicator, when the workbook gives one

    @property
    def rate(self) -> Decimal | None:
        if self.kind == "higher":
            return self.actual / self.target
        if self.kind == "lower":
            return self.target / self.actual
        return None


@dataclass(frozen=True)
class Broken:
    kind: str
    rule: str
    detail: str  # where, in Chinese, as a reviewer would describe the slip


@dataclass(frozen=True)
class SynthDepartment:
    """One generated workbook: the book, its layout, and the numbers behind it."""

    index: int
    code: str
    year: int
    file: str  # relative to the output folder: <year>/<code>.xlsx
    book: DepartmentBook
    layout: Layout
    figures: tuple[Figure, ...]  # one per book.indicators, in order
    ruleset: str  # the 评分规则 the book names (panyu_share when it names none)
    broken: Broken | None = None
    slips: tuple[str, ...] = ()  # stated figures written wrong on purpose (warnings, not errors)


@dataclass(frozen=True)
class SynthFile:
    path: str
    dept_code: str
    year: int
    index: int
    broken: Broken | None
    slips: tuple[str, ...]
    layout: dict  # the Layout fields that differ from the default
    revisions: tuple[int, ...] = ()  # the mutate() seeds applied, in order


@dataclass(frozen=True)
class SynthManifest:
    out_dir: Path
    seed: int
    departments: int
    years: tuple[int, ...]
    broken_share: float
    files: tuple[SynthFile, ...]
    seconds: float = 0.0

    @property
    def broken(self) -> tuple[SynthFile, ...]:
        return tuple(f for f in self.files if f.broken is not None)

    def for_year(self, year: int) -> tuple[SynthFile, ...]:
        return tuple(f for f in self.files if f.year == year)

    def save(self) -> Path:
        payload = {
            "seed": self.seed, "departments": self.departments, "years": list(self.years),
            "broken_share": self.broken_share, "seconds": round(self.seconds, 3),
            "files": [dataclasses.asdict(f) for f in self.files],
        }
        path = self.out_dir / MANIFEST
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, out_dir: Path) -> SynthManifest:
        data = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
        files = tuple(
            SynthFile(f["path"], f["dept_code"], f["year"], f["index"], Broken(**f["broken"]) if f["broken"] else None,
                      tuple(f["slips"]), f["layout"], tuple(f["revisions"]))
            for f in data["files"]
        )
        return cls(Path(out_dir), data["seed"], data["departments"], tuple(data["years"]), data["broken_share"], files,
                   data.get("seconds", 0.0))


# ---------------------------------------------------------------- drawing one department


def dept_code(index: int) -> str:
    return f"D{index + 1:04d}"


def _rng(*parts: object) -> random.Random:
    # A str seed goes through sha512: stable across processes and runs, unlike hash().
    return random.Random(":".join(map(str, parts)))


def _d(value: float | str, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), ROUND_HALF_UP)


def _num(value: Decimal) -> float | int:
    """A Decimal as the writer takes it: an int when whole, else the float of its shortest text."""
    return int(value) if value == value.to_integral_value() else float(value)


def _text(value: Decimal) -> str:
    """12.50 -> 12.5, 100.00 -> 100."""
    return format(value.normalize(), "f")


@dataclass
class _Profile:
    """What a department keeps from year to year."""

    name: str
    short: str | None
    topics: list[str]
    tasks: list[str]
    projects: list[tuple[int, str, float]]  # (task index, name, base budget in 万元)
    indicators: list[tuple[str, str, str, str, str]]  # (level1, level2, name, kind, unit)
    base_sizes: list[float]  # per indicator: the scale of its target
    growth: float
    efficacy: tuple[int, int, int]
    ruleset: str
    has_subunits: int | None
    other_task: bool


def _profile(seed: int, index: int) -> _Profile:
    rng = _rng(seed, index, "profile")
    district = rng.choice(_DISTRICTS)
    roll = rng.random()
    if roll < 0.7:
        bureau, short = rng.choice(_BUREAUS)
        name, short_name = f"{district}{bureau}", f"区{short}" if rng.random() < 0.7 else None
    elif roll < 0.85:
        name, short_name = f"{district}{rng.choice(_STREETS)}{rng.choice(_SUBUNITS[:2])}", None
    else:
        name, short_name = f"{district}第{rng.randint(1, 30)}{rng.choice(_SUBUNITS[2:])}", None
    n_tasks = rng.randint(3, 15)
    topics = rng.sample(_TOPICS, n_tasks)
    tasks = [f"{rng.choice(_VERBS)}{t}{rng.choice(_TASK_TAILS)}" for t in topics]
    other_task = rng.random() < 0.2
    projects: list[tuple[int, str, float]] = []
    seen: set[tuple[int, str]] = set()
    for t, topic in enumerate(topics):
        for tail in rng.sample(_PROJECT_TAILS, rng.randint(1, 6)):
            name_p = f"{topic}{tail}"
            if (t, name_p) not in seen:
                seen.add((t, name_p))
                projects.append((t, name_p, min(max(rng.lognormvariate(4.0, 1.2), 0.5), 5000.0)))
    n_ind = rng.randint(8, 40)
    n_sat = rng.randint(1, min(3, n_ind - 7))
    n_eff = rng.randint(1, min(6, n_ind - n_sat - 6))
    has_budget_use = rng.random() < 0.4  # the indicator panyu_share's budget item reads
    n_out = n_ind - n_sat - n_eff - has_budget_use
    indicators: list[tuple[str, str, str, str, str]] = []
    names: set[tuple[str, str, str]] = set()

    def add(level: tuple[str, str]) -> None:
        for _ in range(50):  # a fresh name: topics × suffixes leave plenty
            suffix, kind, unit = rng.choice(_INDICATOR_KINDS[level])
            name_i = f"{rng.choice(topics)}{suffix}"
            if (*level, name_i) not in names:
                names.add((*level, name_i))
                indicators.append((*level, name_i, kind, unit))
                return

    for _ in range(n_out):
        add(rng.choice(_OUT_LEVEL2))
    if has_budget_use:
        indicators.append((_OUT, "时效指标", BUDGET_INDICATOR, "budget_use", "%"))
    for _ in range(n_eff):
        add(rng.choice(_EFFECT_LEVEL2))
    for _ in range(n_sat):
        add((_SATISFACTION, "服务对象满意度指标"))
    # The sheet lists an indicator hierarchy top-down: group by level1 then level2, as people fill it.
    order = {level: i for i, level in enumerate(_INDICATOR_KINDS)}
    indicators.sort(key=lambda x: order[(x[0], x[1])])
    base_sizes = [rng.lognormvariate(5.0, 1.5) for _ in indicators]
    return _Profile(
        name=name, short=short_name, topics=topics, tasks=tasks, projects=projects, indicators=indicators,
        base_sizes=base_sizes, growth=rng.uniform(-0.05, 0.12), efficacy=rng.choice(_EFFICACY_SPLITS),
        ruleset="proportional" if rng.random() < 0.15 else "panyu_share",
        has_subunits=rng.randint(1, 12) if rng.random() < 0.5 else None, other_task=other_task,
    )


def _layout(rng: random.Random) -> Layout:
    """A layout drawn from the tolerated ones (raw-workbook.md), most often close to plain."""
    chance = rng.random
    layout = Layout(
        title_rows=chance() < 0.8,
        merge_hierarchy=chance() < 0.7,
        percent_cells=chance() < 0.6,
        amount_unit="元" if chance() < 0.3 else "万元",
        sheet_names="aliases" if chance() < 0.2 else "names",
        reverse_sheets=chance() < 0.1,
        extra_sheets=chance() < 0.15,
        hidden_sheets=("报告数值",) if chance() < 0.05 else (),
        header_variants=chance() < 0.25,
        numbers=rng.choices(("cells", "text", "thousands", "full_width"), (0.7, 0.1, 0.1, 0.1))[0],
        rate_points=chance() < 0.1,
        repeat_header_every=rng.randint(8, 15) if chance() < 0.1 else 0,
        blank_row_every=rng.randint(4, 10) if chance() < 0.1 else 0,
        hidden_row_every=rng.randint(5, 9) if chance() < 0.05 else 0,
        extra_columns=chance() < 0.15,
        formulas=chance() < 0.15,
        task_headings=chance() < 0.1,
        signature_rows=chance() < 0.2,
    )
    if layout.task_headings and layout.repeat_header_every:
        # A task's heading row can land just above a repeated header, and the reader then loses
        # the task for the rows after it (项目名称不能为空): left out until the reader carries it over.
        layout = dataclasses.replace(layout, repeat_header_every=0)
    return layout


def _layout_fields(layout: Layout) -> dict:
    default = Layout()
    return {f.name: getattr(layout, f.name) for f in dataclasses.fields(Layout)
            if getattr(layout, f.name) != getattr(default, f.name)}


def _achievement(rng: random.Random) -> float:
    """actual ÷ target of a higher-is-better figure: mostly met, some close, a few well short."""
    roll = rng.random()
    if roll < 0.6:
        return rng.uniform(1.0, 1.3) if rng.random() < 0.6 else 1.0
    if roll < 0.85:
        return rng.uniform(0.9, 1.0)
    return rng.uniform(0.45, 0.9)


def _indicator(rng: random.Random, shape: random.Random, level: tuple[str, str, str, str, str], size: float,
               execution: Decimal, scored: bool) -> tuple[Indicator, Figure]:
    """One indicator row: `shape` draws how it is written (so mutate() keeps it), `rng` its numbers."""
    level1, level2, name, kind, unit = level
    weight = _d(shape.choice((2, 3, 4, 5, 6))) if scored else None

    def made(target_text: str, actual_text: str, figure: Figure) -> tuple[Indicator, Figure]:
        rate = figure.rate
        reported = float(shown_rate(rate)) if rate is not None else None
        score = None
        if weight is not None:
            share = min(rate, Decimal(1)) if rate is not None else Decimal(1 if figure.met else 0)
            score = _num(_d(weight * share))
        figure = dataclasses.replace(figure, weight=weight)
        return Indicator(level1, level2, name, target_text, actual_text, reported,
                         _num(weight) if weight is not None else None, score), figure

    if shape.random() < 0.05 and kind != "budget_use":
        return made("/", "/", Figure(level1, name, "not_applicable"))
    if kind == "count":
        target = Decimal(max(1, round(size)))
        actual = Decimal(max(1, round(float(target) * _achievement(rng))))
        target_style = shape.choice(("{n}{u}", "≥{n}{u}", "不少于{n}{u}", "完成{n}{u}"))
        actual_style = shape.choice(("{n}{u}", "实际完成{n}{u}"))
        return made(target_style.format(n=target, u=unit), actual_style.format(n=actual, u=unit),
                    Figure(level1, name, "higher", target, actual))
    if kind in ("pct_higher", "satisfaction"):
        target = Decimal(shape.choice((80, 85, 90, 95, 98, 100) if kind == "pct_higher" else (85, 90, 95)))
        places = shape.choice(("1", "0.1", "0.01"))
        actual = min(_d(float(target) * _achievement(rng), places), Decimal(100))
        style = shape.choice(("≥{n}%", "{n}%", "不低于{n}%") if kind == "pct_higher" else ("≥{n}%", "满意度达{n}%"))
        return made(style.format(n=target), f"{_text(actual)}%", Figure(level1, name, "higher", target, actual))
    if kind == "budget_use":
        target = Decimal(shape.choice((90, 92, 95)))
        # It restates the department's execution rate; now and then from a draft, as the seed's 97.76% is.
        slip = Decimal(str(round(rng.uniform(-0.3, 0.3), 2))) if rng.random() < 0.2 else Decimal(0)
        actual = min(_d(execution * 100) + slip, Decimal(100))
        return made(f"使用率{target}%", f"{_text(actual)}%", Figure(level1, name, "higher", target, actual))
    if kind in ("pct_lower", "cost_rate", "days_lower", "cost_lower"):
        if kind == "pct_lower":
            target, places = Decimal(shape.choice((1, 2, 3, 5, 10))), "0.1"
        elif kind == "cost_rate":
            target, places = Decimal(100), "0.01"
        elif kind == "days_lower":
            target, places = Decimal(shape.choice((5, 7, 10, 15, 20, 30))), "1"
        else:
            target, places = Decimal(max(10, round(size * 3, -1))), "1"
        actual = max(_d(float(target) / _achievement(rng), places), Decimal(places))
        styles = ("≤{n}{u}", "不超过{n}{u}", "控制在{n}{u}以内") if kind != "days_lower" else ("≤{n}{u}", "{n}{u}内")
        return made(shape.choice(styles).format(n=target, u=unit), f"{_text(actual)}{unit}",
                    Figure(level1, name, "lower", target, actual))
    target_text = shape.choice(("有效提升", "达到预期", "明显改善"))
    met = rng.choices((True, False, None), (0.85, 0.1, 0.05))[0]
    actual_text = {True: shape.choice(("达到预期", "已完成", "已实现", "有效提升")), False: "未达到预期", None: "基本完成"}[met]
    return made(target_text, actual_text, Figure(level1, name, "qualitative", met=met))


def shown_rate(rate: Decimal) -> Decimal:
    """A rate as the report shows it (two decimals of a percent, half up), as a fraction."""
    return rate.quantize(Decimal("0.0001"), ROUND_HALF_UP)


def indicator_counts(figures: Iterable[Figure]) -> dict[str, int]:
    """The 报告数值 counts a clerk writes: indicators by their shown completion rate."""
    applicable = [f for f in figures if f.kind != "not_applicable"]
    rated = [shown_rate(f.rate) for f in applicable if f.rate is not None]
    return {
        "工作任务绩效目标数": len(applicable),
        "完成率≥100%指标数": sum(r >= 1 for r in rated),
        "完成率90%-100%指标数": sum(Decimal("0.9") <= r < 1 for r in rated),
        "完成率<90%指标数": sum(r < Decimal("0.9") for r in rated),
        "产出指标数": sum(f.level1 == _OUT for f in applicable),
        "效益指标数": sum(f.level1 != _OUT for f in applicable),
    }


def item_score(ruleset: str, item: str, weight: Decimal, figures: Sequence[Figure], execution: Decimal) -> Decimal | None:
    """The score a rule set gives an 整体效能 item (jixiao/check/rulesets.toml, in plain arithmetic); None: entered."""
    if item == BUDGET_ITEM:
        budget_use = next((f for f in figures if f.name == BUDGET_INDICATOR and f.actual is not None), None)
        rate = budget_use.actual / 100 if budget_use is not None else execution
        return weight * min(rate, Decimal(1))
    levels = {OUTPUT_ITEM: (_OUT,), EFFECT_ITEM: (_EFFECT, _SATISFACTION)}[item]
    counted = [f for f in figures if f.level1 in levels and f.kind != "not_applicable"]
    if not counted:
        return None
    if ruleset == "proportional":
        parts = [((f.weight or Decimal(1)), min(f.rate, Decimal(1)) if f.rate is not None else Decimal(1 if f.met else 0))
                 for f in counted]
        return weight * sum(w * r for w, r in parts) / sum(w for w, _ in parts)
    met = sum((shown_rate(f.rate) >= 1) if f.rate is not None else bool(f.met) for f in counted)
    return weight * met / len(counted)


def _slip(rng: random.Random, value: Decimal, step: Decimal) -> Decimal:
    """A typing slip: two neighbouring digits swapped, else the figure off by `step`."""
    text = format(value, "f")
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if len(digits) >= 2 and rng.random() < 0.5:
        i = rng.randrange(len(digits) - 1)
        first, second = digits[i], digits[i + 1]
        swapped = Decimal(text[:first] + text[second] + text[first + 1:second] + text[first] + text[second + 1:])
        if swapped != value:
            return swapped
    return value + step if value < step or rng.random() < 0.5 else value - step


def build_department(seed: int, index: int, year: int, *, broken: str | None = None,
                     revisions: Sequence[int] = ()) -> SynthDepartment:
    """Department `index`'s workbook for `year`; `revisions` are the mutate() seeds applied to it.

    Three streams of draws: `noise` (budgets) and `shape` (what the workbook holds and how it is
    written) depend on the department and year only; `rng` (spending, actuals, scores, slips)
    also on the revisions, so mutate() changes numbers and nothing else."""
    profile = _profile(seed, index)
    code = dept_code(index)
    rng = _rng(seed, index, year, *[f"m{r}" for r in revisions])
    shape = _rng(seed, index, year, "shape")
    noise = _rng(seed, index, year, "noise")
    layout = _layout(_rng(seed, index, year, "layout"))
    drift = (1 + profile.growth) ** (year - _ANCHOR_YEAR)

    # 项目支出 (表2-3): projects under tasks, amounts in 万元
    labels = ([f"任务{i + 1}：{t}" for i, t in enumerate(profile.tasks)] if shape.random() < 0.7
              else list(profile.tasks))
    projects: list[tuple[str, str, Decimal, Decimal]] = []
    rows = [(labels[t], name, base * drift * noise.uniform(0.9, 1.1)) for t, name, base in profile.projects]
    if profile.other_task:
        rows.append(("其他需完成的任务：日常运转保障", "日常运转保障经费", noise.uniform(5, 80)))
    for task, name, amount in rows:
        budget = max(_d(amount), Decimal("0.5"))
        roll = rng.random()
        spend = 1.0 if roll < 0.55 else rng.uniform(0.9, 1.0) if roll < 0.85 else rng.uniform(0.2, 0.9)
        projects.append((task, name, budget, _d(float(budget) * spend)))
    project_budget = sum(p[2] for p in projects)
    project_spent = sum(p[3] for p in projects)

    # 基本情况
    budget = _d(float(project_budget) * noise.uniform(1.05, 1.8))
    spent_total = _d(float(budget) * (1.0 if rng.random() < 0.2 else rng.uniform(0.85, 1.0)))
    execution = spent_total / budget
    info: dict[str, object] = {"部门名称": profile.name}
    if profile.short:
        info["部门简称"] = profile.short
    info.update({"部门编码": code, "年度": year, "全年预算数（万元）": _num(budget),
                 "财政拨款收入（万元）": _num(_d(float(budget) * noise.uniform(0.95, 1.0))),
                 "财政拨款支出（万元）": _num(spent_total)})
    if shape.random() < 0.4:
        info["预算经费使用率目标"] = f"{shape.choice((90, 92, 95))}%"
    if profile.has_subunits is not None:
        info["下属单位数"] = profile.has_subunits
    if profile.ruleset != "panyu_share":
        info["评分规则"] = profile.ruleset

    # 绩效指标
    scored = _rng(seed, index, "scored").random() < 0.2
    made = [_indicator(rng, shape, level, size * drift, execution, scored)
            for level, size in zip(profile.indicators, profile.base_sizes)]
    indicators = tuple(i for i, _ in made)
    figures = tuple(f for _, f in made)
    slips = [f.name for f in figures if f.name == BUDGET_INDICATOR and f.actual != _d(execution * 100)]

    # 自评得分 (表2-1): 整体效能 as the clerk computed it, 管理效率 mostly full marks; each item is awarded to
    # two decimals and the total is the sum of the awarded items, as the form's column adds up
    items: list[ScoreItem] = []
    awarded_total = Decimal(0)
    for name, weight in zip((OUTPUT_ITEM, EFFECT_ITEM, BUDGET_ITEM), profile.efficacy):
        score = item_score(profile.ruleset, name, Decimal(weight), figures, execution)
        awarded_total += _d(score) if score is not None else weight
        items.append(ScoreItem("履职效能", 50, "整体效能", 50, name, weight,
                               _num(_d(score)) if score is not None else weight))
    for (level2, w2), entries in _MANAGEMENT.items():
        for name, weight in entries:
            score = weight if rng.random() < 0.75 else max(0.0, weight - 0.5 * rng.randint(1, max(1, int(weight))))
            awarded_total += Decimal(str(score))
            items.append(ScoreItem("管理效率", 50, level2, w2, name, weight, score))
    total_score = _d(awarded_total)

    tasks = tuple(Task(i + 1, name, f"{year}年{rng.choice(_OUTCOMES)}，完成{profile.topics[i]}相关工作{rng.randint(3, 40)}项。")
                  for i, name in enumerate(profile.tasks))
    project_rows = tuple(
        Project(task, name, _num(b), _num(s), float(shown_rate(s / b)) if shape.random() < 0.8 else None)
        for task, name, b, s in projects
    )
    reported: dict[str, object] = {
        "完成年度预算比例": f"{shown_rate(execution) * 100:.2f}%",
        "项目预算总额（万元）": _num(project_budget),
        "项目支出总额（万元）": _num(project_spent),
        "总得分": _num(total_score),
        **indicator_counts(figures),
    }
    if rng.random() < 0.15:  # the prose states one figure wrong, as the seed's 3,546.25 does
        key = rng.choice([k for k in reported if k != "完成年度预算比例"])
        value = Decimal(str(reported[key]))
        step = Decimal(1) if key.endswith("数") else Decimal("0.1")
        reported[key] = _num(_slip(rng, value, step))
        slips.append(key)
    book = DepartmentBook(
        info=info, tasks=tasks, indicators=indicators, projects=project_rows,
        project_total=(_num(project_budget), _num(project_spent), float(shown_rate(project_spent / project_budget)))
        if shape.random() < 0.7 else None,
        project_notes=("部分项目预算完成率偏低原因：项目结算评审进度较慢，待评审完成后支付剩余款项。",)
        if shape.random() < 0.3 else (),
        score_items=tuple(items),
        score_total=(100, _num(total_score)) if shape.random() < 0.6 else None,
        reported=reported,
    )
    dept = SynthDepartment(index, code, year, f"{year}/{code}.xlsx", book, layout, figures, profile.ruleset, None,
                           tuple(slips))
    return _break(dept, broken, _rng(seed, index, year, "broken")) if broken else dept


def _break(dept: SynthDepartment, kind: str, rng: random.Random) -> SynthDepartment:
    """The department's workbook with one error of `kind` a clerk could make."""
    book = dept.book
    if kind in ("negative_amount", "text_amount", "duplicate_project"):
        i = rng.randrange(len(book.projects))
        p = book.projects[i]
        if kind == "negative_amount":
            changed, detail = [dataclasses.replace(p, budget=-p.budget)], f"项目“{p.name}”预算金额填为负数"
        elif kind == "text_amount":
            word = rng.choice(("待结算", "见附件", "六十万元整", "约50万"))
            changed, detail = [dataclasses.replace(p, spent=word)], f"项目“{p.name}”支出金额填为文字“{word}”"
        else:
            changed, detail = [p, p], f"项目“{p.name}”填写了两次"
        book = dataclasses.replace(book, projects=(*book.projects[:i], *changed, *book.projects[i + 1:]))
    elif kind in ("weights_sum", "score_above_weight"):
        managed = [i for i, s in enumerate(book.score_items) if s.level1 == "管理效率"]
        i = rng.choice(managed)
        s = book.score_items[i]
        if kind == "weights_sum":
            changed, detail = dataclasses.replace(s, weight=s.weight + 1), f"三级指标“{s.name}”分值多填 1 分，分值合计不符"
        else:
            changed, detail = dataclasses.replace(s, score=s.weight + 1), f"三级指标“{s.name}”自评分超过分值"
        book = dataclasses.replace(book, score_items=(*book.score_items[:i], changed, *book.score_items[i + 1:]))
    elif kind == "unit_mismatch":
        numeric = [i for i, f in enumerate(dept.figures) if f.kind in ("higher", "lower")]
        i = rng.choice([i for i in numeric if not book.indicators[i].actual.endswith("%")] or numeric)
        x = book.indicators[i]
        actual = f"{_text(dept.figures[i].actual)}{'人' if x.actual.endswith('%') else '万人次'}"
        book = dataclasses.replace(book, indicators=(
            *book.indicators[:i], dataclasses.replace(x, actual=actual), *book.indicators[i + 1:]))
        detail = f"指标“{x.name}”实际完成值单位与指标值不一致"
    elif kind == "year_mismatch":
        book = dataclasses.replace(book, info={**book.info, "年度": dept.year - 1})
        detail = f"基本情况年度填为 {dept.year - 1}"
    elif kind == "missing_budget":
        book = dataclasses.replace(book, info={k: v for k, v in book.info.items() if not k.startswith("全年预算数")})
        detail = "基本情况缺少全年预算数"
    else:
        raise ValueError(f"unknown broken kind {kind!r}: choose from {', '.join(BROKEN_KINDS)}")
    return dataclasses.replace(dept, book=book, broken=Broken(kind, BROKEN_KINDS[kind], detail))


# ---------------------------------------------------------------- writing many


def _write_one(job: tuple[str, int, int, int, str | None, tuple[int, ...]]) -> dict:
    out_dir, seed, index, year, broken, revisions = job
    dept = build_department(seed, index, year, broken=broken, revisions=revisions)
    write_workbook(dept.book, Path(out_dir) / dept.file, dept.layout)
    return dataclasses.asdict(SynthFile(dept.file, dept.code, year, index, dept.broken, dept.slips,
                                        _layout_fields(dept.layout), tuple(revisions)))


@contextmanager
def _fast_temp_files() -> Iterator[None]:
    """xlsxwriter stages every part of a workbook in a temporary file before zipping it; on a
    disk that is over half the time of writing one. Stage them in memory-backed /dev/shm instead."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield
        return
    before = tempfile.tempdir
    with tempfile.TemporaryDirectory(dir=shm, prefix="jixiao-synth-") as staging:
        tempfile.tempdir = staging
        try:
            yield
        finally:
            tempfile.tempdir = before


def _worker_write(jobs: list[tuple]) -> list[dict]:
    with _fast_temp_files():
        return [_write_one(job) for job in jobs]


def _run_jobs(jobs: list[tuple], processes: int | None) -> list[dict]:
    """Write the workbooks, in worker processes when there are enough to pay for starting them."""
    processes = min(processes or os.cpu_count() or 1, max(1, len(jobs) // 32))
    if processes <= 1:
        return _worker_write(jobs)
    size = max(1, min(64, len(jobs) // (processes * 8)))
    batches = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    # spawn, never fork: the caller may have polars (and its thread pool) loaded.
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return [row for rows in pool.imap(_worker_write, batches) for row in rows]


def _as_file(row: dict) -> SynthFile:
    return SynthFile(row["path"], row["dept_code"], row["year"], row["index"],
                     Broken(**row["broken"]) if row["broken"] else None, tuple(row["slips"]), row["layout"],
                     tuple(row["revisions"]))


def broken_plan(seed: int, departments: int, year: int, share: float) -> dict[int, str]:
    """Which departments' workbooks of `year` are broken (round(share × departments) of them), and how:
    the kinds take turns from a random start, so every kind shows up once there are enough."""
    rng = _rng(seed, "broken", year)
    chosen = sorted(rng.sample(range(departments), min(round(departments * share), departments)))
    kinds = list(BROKEN_KINDS)
    start = rng.randrange(len(kinds))
    return {index: kinds[(start + i) % len(kinds)] for i, index in enumerate(chosen)}


def synthesize(out_dir: Path, departments: int, years: int | Sequence[int], *, seed: int = 0,
               broken_share: float = 0.02, processes: int | None = None) -> SynthManifest:
    """Write `out_dir/<year>/<code>.xlsx` for `departments` departments and each year, and `out_dir/manifest.json`."""
    if departments < 1:
        raise ValueError("departments must be at least 1")
    if not 0 <= broken_share <= 1:
        raise ValueError("broken_share must be between 0 and 1")
    year_list = (years,) if isinstance(years, int) else tuple(years)
    out_dir = Path(out_dir)
    clock = time.perf_counter()
    jobs = []
    for year in year_list:
        folder = out_dir / str(year)
        existing = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
        if existing and not (out_dir / MANIFEST).exists():
            raise FileExistsError(f"{folder} already holds workbooks that jixiao synth did not write; choose another folder")
        for stale in existing:  # an earlier, larger set must not leave departments behind
            stale.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        plan = broken_plan(seed, departments, year, broken_share)
        jobs.extend((str(out_dir), seed, i, year, plan.get(i), ()) for i in range(departments))
    files = tuple(_as_file(row) for row in _run_jobs(jobs, processes))
    manifest = SynthManifest(out_dir, seed, departments, year_list, broken_share, files, time.perf_counter() - clock)
    manifest.save()
    return manifest


def mutate(out_dir: Path, share: float, year: int, seed: int, *, processes: int | None = None) -> list[str]:
    """Change the numbers (amounts, actuals, scores) of round(share × workbooks of `year`) workbooks, at
    least one when share > 0, keeping their departments, structure, layout and broken-ness; returns their paths."""
    manifest = SynthManifest.load(out_dir)
    candidates = manifest.for_year(year)
    count = min(len(candidates), max(1, round(len(candidates) * share))) if share > 0 else 0
    chosen = {f.path for f in _rng(manifest.seed, "mutate", year, seed).sample(candidates, count)}
    jobs = [(str(manifest.out_dir), manifest.seed, f.index, f.year, f.broken.kind if f.broken else None,
             (*f.revisions, seed)) for f in candidates if f.path in chosen]
    changed = {row["path"]: _as_file(row) for row in _run_jobs(jobs, processes)}
    files = tuple(changed.get(f.path, f) for f in manifest.files)
    dataclasses.replace(manifest, files=files).save()
    return sorted(changed)


__all__ = [
    "BROKEN_KINDS", "Broken", "Figure", "SynthDepartment", "SynthFile", "SynthManifest", "build_department",
    "dept_code", "indicator_counts", "item_score", "mutate", "shown_rate", "synthesize",
]
