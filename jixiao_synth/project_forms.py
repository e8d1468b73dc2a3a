"""Synthetic project forms (项目支出绩效自评表), written as units print them.

Each form is drawn from `random.Random` seeded by (seed, year, form index), so a
form does not depend on how many others are made; its figures are kept in a
`SynthForm` record (what the reader must find, the cells the writer put them
in, the slips and the breakage). The printed figures of a clean form follow the
contract's national_project rule (../shared/contract/project-form.md): 执行率 =
执行数 ÷ 预算数, budget score = 分值 × min(执行率, 1), a quantitative indicator
that met its target scores its 分值, else 分值 × B/A (A/B when lower is better),
a qualitative one its entered score, each rounded half up to two decimals, the
总分 their sum. A slipped form prints one figure against those rules, as real
forms do; a broken form carries an error the reader must report.

Layout variants (`FormVariant`) are drawn per workbook: 万元 or 元, a budget 分值
of 20 (Hubei), 一级 cells of only （50分） named by the footnote, 二级 split over
lines, 指标N： prefixes, template filler rows, separate 指标性质 and 度量单位
columns, a code prefix in 实施单位, a 项目编码 row, one to four forms per workbook.
"""

from __future__ import annotations

import dataclasses
import json
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from jixiao.families.project import labels as L
from jixiao_synth.synth import _BUREAUS, _DISTRICTS, _PROJECT_TAILS, _TOPICS

SLIPS = ("rate_off", "budget_score_zero", "indicator_score", "total_not_sum", "weights_off", "rate_empty")
BROKEN = ("amount_unparseable", "name_missing", "title_year")
_CREATED = datetime(2000, 1, 1)
_CENT = Decimal("0.01")
_WAN = Decimal(10_000)


@dataclass(frozen=True)
class FormVariant:
    money_unit: str = "万元"  # or 元
    budget_weight: int = 10  # 20 on Hubei's forms
    level1_from_note: bool = False  # 一级 cells print only （50分）; the footnote names them
    level2_split: bool = False  # 二级 names over two lines (in the cell, or over two rows)
    prefixes: bool = False  # 三级 names as 指标1：…
    filler_rows: bool = False  # template rows 指标N： and …… left in
    nature_columns: bool = False  # 指标性质 and 度量单位 printed as columns of their own
    code_prefix: bool = False  # 实施单位 as 219001-池州市…
    project_code: bool = False  # a 项目编码 row
    title_in_one: bool = False  # 2022年度项目支出绩效自评表 on one line


@dataclass
class SynthFund:
    source: str
    label: str
    initial: Decimal | None  # 元
    budget: Decimal | None
    spent: Decimal | None
    weight: Decimal | None = None
    printed_rate: Decimal | None = None  # a fraction, as written (four decimals)
    printed_score: Decimal | None = None
    rate_as_text: bool = False


@dataclass
class SynthIndicator:
    level1: str
    level1_weight: Decimal
    level2: str
    indicator: str  # as the reader must give it (no 指标N： prefix)
    target_text: str  # as written in 年度指标值
    actual_text: str
    target_value: Decimal | None
    actual_value: Decimal | None
    unit: str | None
    comparator: str | None  # >=, <=, = or None
    direction: str  # higher, lower, qualitative, not_applicable
    weight: Decimal | None
    printed_score: Decimal | None
    due_score: Decimal | None  # what the rule gives (the entered score for a qualitative one)
    nature: str | None = None  # 指标性质 where printed apart
    deviation: str | None = None


@dataclass
class SynthForm:
    index: int
    year: int  # the folder's
    title_year: int
    project: str
    project_code: str | None
    dept_name: str
    unit_name: str
    unit_code: str | None
    funds: list[SynthFund]
    indicators: list[SynthIndicator]
    goal_target: str
    goal_actual: str
    conclusion: str
    problems: str
    improvements: str
    total_weight: Decimal
    printed_total: Decimal
    due_total: Decimal
    slips: list[str] = field(default_factory=list)
    broken: str | None = None
    sheet: str = ""
    cells: dict[str, str] = field(default_factory=dict)  # what -> A1 where the writer put it
    filler_cells: list[str] = field(default_factory=list)  # 三级 cells of template filler rows

    @property
    def expected_rule(self) -> str | None:
        return {"amount_unparseable": "project.amount_unparseable", "name_missing": "project.name_missing",
                "title_year": "project.title_year_mismatch"}.get(self.broken or "")

    @property
    def expected_cell(self) -> str | None:
        return {"amount_unparseable": "fund.年度资金总额.spent", "name_missing": "project",
                "title_year": "title_year"}.get(self.broken or "") and self.cells[
            {"amount_unparseable": "fund.年度资金总额.spent", "name_missing": "project",
             "title_year": "title_year"}[self.broken]]


@dataclass
class SynthWorkbook:
    name: str
    variant: FormVariant
    forms: list[SynthForm]


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, ("project", *parts))))


def _half_up(value: Decimal, places: Decimal = _CENT) -> Decimal:
    return value.quantize(places, ROUND_HALF_UP)


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def draw_variant(rng: random.Random) -> FormVariant:
    return FormVariant(
        money_unit=rng.choice(("万元", "万元", "元")), budget_weight=rng.choice((10, 10, 10, 20)),
        level1_from_note=rng.random() < 0.3, level2_split=rng.random() < 0.3, prefixes=rng.random() < 0.4,
        filler_rows=rng.random() < 0.3, nature_columns=rng.random() < 0.3, code_prefix=rng.random() < 0.4,
        project_code=rng.random() < 0.4, title_in_one=rng.random() < 0.2)


def _split(total: Decimal, n: int) -> list[Decimal]:
    """`total` points over n indicators, whole points, the larger first."""
    base, extra = divmod(int(total), n)
    return [Decimal(base + (1 if i < extra else 0)) for i in range(n)]


def _level_weights(variant: FormVariant) -> tuple[tuple[str, Decimal], ...]:
    out = dict(L.DEFAULT_LEVEL1)
    out["产出指标"] -= Decimal(variant.budget_weight) - L.DEFAULT_BUDGET_WEIGHT  # Hubei: 20 for the budget, 40 for 产出
    return tuple(out.items())


# (level1, level2) -> (name, kind, unit, size): kinds: count (higher), percent (higher), equal (=100%),
# cost (lower, 万元), days (lower), quality (qualitative)
_SHAPES = {
    "产出指标": (("数量指标", (("完成{t}服务人次", "count", "人次", 2000), ("开展{t}活动场次", "count", "场", 40))),
                 ("质量指标", (("{t}验收合格率", "equal", "%", 100), ("{t}覆盖率", "percent", "%", 95))),
                 ("时效指标", (("{t}资金拨付时限", "days", "天", 30),)),
                 ("成本指标", (("{t}人均成本", "cost", "元", 800),))),
    "效益指标": (("社会效益指标", (("{t}群众知晓率", "percent", "%", 90), ("{t}服务质量", "quality", None, 0))),
                 ("经济效益指标", (("带动{t}相关投资", "count", "万元", 500),)),
                 ("可持续影响指标", (("{t}长效机制建立", "quality", None, 0),))),
    "满意度指标": (("服务对象满意度指标", (("{t}服务对象满意度", "percent", "%", 90),)),),
}


def _indicator(rng: random.Random, level1: str, level1_weight: Decimal, level2: str, shape, weight: Decimal,
               topic: str) -> SynthIndicator:
    name, kind, unit, size = shape
    name = name.format(t=topic)
    met = rng.random() < 0.75
    if kind == "quality":
        full = met or rng.random() < 0.5
        score = weight if full else _half_up(weight * Decimal("0.7"))
        return SynthIndicator(level1, level1_weight, level2, name, "有效提升", "达到预期" if full else "部分达成",
                              None, None, None, None, "qualitative", weight, score, score, nature="定性")
    if kind == "equal":
        target = Decimal(100)
        actual = target if met else Decimal(rng.randint(90, 99))
        comparator, direction = "=", "higher"
    elif kind in ("cost", "days"):
        target = Decimal(size + rng.randint(0, size // 4))
        actual = target - rng.randint(0, max(1, size // 10)) if met else target + rng.randint(1, max(2, size // 5))
        comparator, direction = "<=", "lower"
    else:
        target = Decimal(size if kind == "percent" else size + rng.randint(0, size // 2))
        if kind == "percent":
            actual = min(Decimal(100), target + rng.randint(0, 5)) if met else target - rng.randint(1, 10)
        else:
            actual = target + rng.randint(0, size // 10) if met else target - rng.randint(1, size // 5)
        comparator, direction = ">=", "higher"
    reached = actual >= target if direction == "higher" else actual <= target
    if reached:
        due = weight
    else:
        ratio = actual / target if direction == "higher" else target / actual
        due = _half_up(min(weight, weight * ratio))
    sign = {">=": "≥", "<=": "≤", "=": "＝"}[comparator]
    return SynthIndicator(level1, level1_weight, level2, name, f"{sign}{_text(target)}{unit}", f"{_text(actual)}{unit}",
                          target, actual, unit, comparator, direction, weight, due, due,
                          nature=sign, deviation=None if reached else "受客观因素影响未完全达到目标，下年度加强管理")


def build_form(seed: int, year: int, index: int, variant: FormVariant, *, slip: str | None = None,
               broken: str | None = None) -> SynthForm:
    rng = _rng(seed, year, index)
    district = rng.choice(_DISTRICTS)
    bureau = rng.choice(_BUREAUS)[0]
    topic = rng.choice(_TOPICS)
    project = f"{year}年{topic}{rng.choice(_PROJECT_TAILS)}"
    unit_code = f"{rng.randint(100, 999)}{index % 1000:03d}" if variant.code_prefix else None
    unit = f"{district}{bureau}" if rng.random() < 0.5 else f"{district}{topic}服务中心"
    project_code = f"{year}{index:08d}" if variant.project_code else None

    budget = Decimal(rng.randint(50, 50_000)) * (100 if variant.money_unit == "万元" else Decimal("1.37"))
    budget = _half_up(budget)
    full = slip in ("budget_score_zero", "rate_empty") or rng.random() < 0.3
    spent = budget if full else _half_up(budget * Decimal(rng.randint(70, 99)) / 100, Decimal(100) if
                                         variant.money_unit == "万元" else _CENT)
    fiscal = _half_up(budget * Decimal(rng.randint(60, 100)) / 100, Decimal(100) if variant.money_unit == "万元" else _CENT)
    fiscal_spent = min(fiscal, spent)
    carried = budget - fiscal
    rate = spent / budget
    weight = Decimal(variant.budget_weight)
    budget_score = _half_up(weight * min(rate, Decimal(1)))
    funds = [
        SynthFund(L.FUNDS_TOTAL, L.FUNDS_TOTAL, budget, budget, spent, weight, _half_up(rate, Decimal("0.0001")),
                  budget_score, rate_as_text=rng.random() < 0.5),
        SynthFund("当年财政拨款", rng.choice(("其中：当年财政拨款", "其中：本年财政拨款")), fiscal, fiscal, fiscal_spent),
        SynthFund("上年结转资金", "上年结转资金", carried if carried else None, carried if carried else None,
                  spent - fiscal_spent if carried else None),
        SynthFund("其他资金", "其他资金", None, None, None),
    ]

    indicators: list[SynthIndicator] = []
    for level1, level1_weight in _level_weights(variant):
        groups = _SHAPES[level1]
        shapes = [(level2, shape) for level2, shapes in groups for shape in shapes if rng.random() < 0.85] or \
            [(groups[0][0], groups[0][1][0])]
        for (level2, shape), w in zip(shapes, _split(level1_weight, len(shapes)), strict=True):
            indicators.append(_indicator(rng, level1, level1_weight, level2, shape, w, topic))
    total_weight = L.TOTAL_WEIGHT
    form = SynthForm(
        index, year, year, project, project_code, f"{district}{bureau}", unit, unit_code, funds, indicators,
        goal_target=f"做好{topic}工作，全年完成既定任务", goal_actual=f"{topic}工作按计划推进，完成年度目标",
        conclusion="项目总体完成较好", problems="部分指标完成进度偏慢", improvements="加强项目管理，提高资金使用效益",
        total_weight=total_weight, printed_total=Decimal(0), due_total=Decimal(0))
    _apply_slip(form, slip, rng)
    form.due_total = budget_score + sum((i.due_score or 0 for i in indicators), Decimal(0))
    form.printed_total = (funds[0].printed_score or 0) + sum((i.printed_score or 0 for i in indicators), Decimal(0))
    if slip == "total_not_sum":
        form.printed_total += Decimal("1.5")
        form.slips.append("total_not_sum")
    if broken:
        form.broken = broken
        if broken == "title_year":
            form.title_year = year - 1
    return form


def _apply_slip(form: SynthForm, slip: str | None, rng: random.Random) -> None:
    total = form.funds[0]
    if slip == "rate_off":
        total.printed_rate = total.printed_rate + Decimal("0.0123")
    elif slip == "budget_score_zero":
        total.printed_score = Decimal(0)
    elif slip == "rate_empty":
        total.printed_rate = None
    elif slip == "indicator_score":
        item = next((i for i in form.indicators if i.direction != "qualitative" and i.printed_score == i.weight),
                    form.indicators[0])
        item.printed_score = item.weight - Decimal("0.4")
    elif slip == "weights_off":
        item = rng.choice([i for i in form.indicators if i.weight])
        item.weight += 2  # the rule then gives from the printed weight
        item.printed_score = item.due_score = item.weight if item.due_score == item.weight - 2 else item.due_score
    if slip and slip != "total_not_sum":
        form.slips.append(slip)


def _footnote(variant: FormVariant) -> str:
    levels = "、".join(f"{name}{_text(w)}分" for name, w in _level_weights(variant))
    return (f"注：1.一级指标权重统一设置为：{levels}、预算执行率{variant.budget_weight}分。"
            "2.定量指标完成的得满分，未完成的按完成比例计分；定性指标按达成、部分达成、未达成分档评分。")


# --- writing --------------------------------------------------------------------------------------

def write_forms_workbook(path: Path, forms: list[SynthForm], variant: FormVariant = FormVariant()) -> Path:
    """One workbook with one form per sheet, laid out as printed; each form's `cells` and `sheet` are set."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"created": _CREATED})
    fmt = {"text": wb.add_format({"border": 1, "text_wrap": True, "valign": "vcenter"}),
           "title": wb.add_format({"bold": True, "align": "center", "font_size": 14}),
           "num": wb.add_format({"border": 1}),
           "pct": wb.add_format({"border": 1, "num_format": "0.00%"})}
    for i, form in enumerate(forms, start=1):
        form.sheet = f"项目{i}" if len(forms) > 1 else "项目支出绩效自评表"
        _FormWriter(wb.add_worksheet(form.sheet), form, variant, fmt).write()
    wb.close()
    return path


class _FormWriter:
    def __init__(self, ws, form: SynthForm, variant: FormVariant, fmt: dict):
        self.ws, self.form, self.variant, self.fmt = ws, form, variant, fmt
        self.cols = (("level1", "一级指标"), ("level2", "二级指标"), ("indicator", "三级指标")) + (
            (("nature", "指标性质"), ("target", "年度指标值"), ("measure_unit", "度量单位")) if variant.nature_columns else
            (("target", "年度指标值"),)) + (("actual", "实际完成值"), ("weight", "分值"), ("score", "得分"),
                                       ("deviation", "偏差原因分析及改进措施"))
        self.col = {key: i + 1 for i, (key, _) in enumerate(self.cols)}
        self.last = len(self.cols) + 1  # 偏差 merged over two columns

    def put(self, r: int, c: int, value, what: str | None = None, style: str = "text") -> None:
        if value is None:
            self.ws.write_blank(r, c, None, self.fmt[style])
        elif isinstance(value, Decimal):
            self.ws.write_number(r, c, float(value), self.fmt[style])
        else:
            self.ws.write_string(r, c, value, self.fmt[style])
        if what:
            self.form.cells[what] = xl_rowcol_to_cell(r, c)

    def merge(self, r0: int, c0: int, r1: int, c1: int, value, what: str | None = None, style: str = "text") -> None:
        if (r0, c0) == (r1, c1):
            return self.put(r0, c0, value, what, style)
        shown = "" if value is None else (float(value) if isinstance(value, Decimal) else value)
        self.ws.merge_range(r0, c0, r1, c1, shown, self.fmt[style])
        if what:
            self.form.cells[what] = xl_rowcol_to_cell(r0, c0)

    def write(self) -> None:
        form, v, last = self.form, self.variant, self.last
        if v.title_in_one:
            self.merge(0, 0, 0, last, f"{form.title_year}年度{L.TITLE}", "title_year", "title")
            r = 1
        else:
            self.merge(0, 0, 0, last, L.TITLE, None, "title")
            self.merge(1, 0, 1, last, f"（{form.title_year}年度）", "title_year", "title")
            r = 2
        self.merge(r, 0, r, 1, "项目名称")
        self.merge(r, 2, r, last, None if form.broken == "name_missing" else form.project, "project")
        r += 1
        self.merge(r, 0, r, 1, "主管部门")
        self.merge(r, 2, r, 4, form.dept_name, "dept_name")
        self.merge(r, 5, r, 6, "实施单位")
        unit = f"{form.unit_code}-{form.unit_name}" if form.unit_code else form.unit_name
        self.merge(r, 7, r, last, unit, "unit_name")
        r += 1
        if form.project_code:
            self.merge(r, 0, r, 1, "项目编码")
            self.merge(r, 2, r, last, form.project_code, "project_code")
            r += 1
        r = self.funds(r)
        r = self.goals(r)
        r = self.indicators(r)
        for key, label in (("conclusion", "评价结论"), ("problems", "存在问题"), ("improvements", "改进措施")):
            self.merge(r, 0, r, 1, label)
            self.merge(r, 2, r, last, getattr(form, key), key)
            r += 1
        self.merge(r, 0, r, last, _footnote(v), "remarks")

    def funds(self, r: int) -> int:
        form, v = self.form, self.variant
        scale = _WAN if v.money_unit == "万元" else Decimal(1)
        self.merge(r, 0, r + len(form.funds), 0, f"项目资金（{v.money_unit}）")
        self.put(r, 1, None)
        for c, label in enumerate(("年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"), start=2):
            self.put(r, c, label)
        for fund in form.funds:
            r += 1
            what = f"fund.{fund.source}"
            self.put(r, 1, fund.label, f"{what}.label")
            for c, key in ((2, "initial"), (3, "budget"), (4, "spent")):
                amount = getattr(fund, key)
                shown = None if amount is None else amount / scale
                if key == "spent" and fund.source == L.FUNDS_TOTAL and form.broken == "amount_unparseable":
                    shown = "约八十万"
                self.put(r, c, shown, f"{what}.{key}", "num")
            total = fund.source == L.FUNDS_TOTAL
            self.put(r, 5, fund.weight if total else "—", f"{what}.weight", "num")
            rate = fund.printed_rate
            if rate is not None and fund.rate_as_text:
                self.put(r, 6, f"{_text(rate * 100)}%", f"{what}.rate")
            else:
                self.put(r, 6, rate if total else "—", f"{what}.rate", "pct" if total else "text")
            self.put(r, 7, fund.printed_score if total else "—", f"{what}.score", "num")
        return r + 1

    def goals(self, r: int) -> int:
        last = self.last
        self.merge(r, 0, r + 1, 1, "年度总体目标")
        self.merge(r, 2, r, 5, "预期目标")
        self.merge(r, 6, r, last, "实际完成情况")
        self.merge(r + 1, 2, r + 1, 5, self.form.goal_target, "goal_target")
        self.merge(r + 1, 6, r + 1, last, self.form.goal_actual, "goal_actual")
        return r + 2

    def indicators(self, r: int) -> int:
        form, v, col, last = self.form, self.variant, self.col, self.last
        top = r
        for key, label in self.cols:
            if key == "deviation":
                self.merge(r, col[key], r, last, label)
            else:
                self.put(r, col[key], label)
        rows = self._rows()
        self.merge(top, 0, top + len(rows), 0, "绩效指标")
        r += 1
        first = r
        # 一级 and 二级 merged down their rows
        for key in ("level1", "level2"):
            start = 0
            while start < len(rows):
                end = start
                while end + 1 < len(rows) and rows[end + 1][key] == rows[start][key]:
                    end += 1
                text = rows[start][key + "_shown"]
                if key == "level2" and v.level2_split and end > start and text.endswith("指标") and \
                        rows[start]["level1"] == "效益指标":
                    self.put(first + start, col[key], text[:-2])  # 社会效益 / 指标 over two rows, unmerged
                    self.put(first + start + 1, col[key], "指标")
                    for i in range(start + 2, end + 1):
                        self.put(first + i, col[key], None)
                else:
                    self.merge(first + start, col[key], first + end, col[key], text)
                start = end + 1
        for i, row in enumerate(rows):
            item: SynthIndicator | None = row["item"]
            rr = first + i
            if item is None:  # filler
                self.put(rr, col["indicator"], row["indicator_shown"])
                form.filler_cells.append(xl_rowcol_to_cell(rr, col["indicator"]))
                for key in [k for k, _ in self.cols if k not in ("level1", "level2", "indicator", "deviation")]:
                    self.put(rr, col[key], None)
                self.merge(rr, col["deviation"], rr, last, None)
                continue
            n = row["n"]
            self.put(rr, col["indicator"], row["indicator_shown"], f"indicator.{n}.indicator")
            if v.nature_columns and item.direction != "qualitative":
                self.put(rr, col["nature"], item.nature)
                self.put(rr, col["target"], item.target_value, f"indicator.{n}.target", "num")
                self.put(rr, col["measure_unit"], item.unit)
                self.put(rr, col["actual"], item.actual_value, f"indicator.{n}.actual", "num")
            else:
                if v.nature_columns:
                    self.put(rr, col["nature"], item.nature)
                    self.put(rr, col["measure_unit"], None)
                self.put(rr, col["target"], item.target_text, f"indicator.{n}.target")
                self.put(rr, col["actual"], item.actual_text, f"indicator.{n}.actual")
            self.put(rr, col["weight"], item.weight, f"indicator.{n}.weight", "num")
            self.put(rr, col["score"], item.printed_score, f"indicator.{n}.score", "num")
            self.merge(rr, col["deviation"], rr, last, item.deviation)
        r = first + len(rows)
        self.merge(r, 0, r, col["weight"] - 1, "总分")
        self.put(r, col["weight"], form.total_weight, "total_weight", "num")
        self.put(r, col["score"], form.printed_total, "total", "num")
        self.merge(r, col["deviation"], r, last, None)
        return r + 1

    def _rows(self) -> list[dict]:
        """The indicator block's rows: each indicator with how its cells are written, and filler rows."""
        v, rows, counters = self.variant, [], {}
        weights = dict(_level_weights(v))
        for n, item in enumerate(self.form.indicators):
            k = counters[item.level2] = counters.get(item.level2, 0) + 1
            level1 = f"（{_text(weights[item.level1])}分）" if v.level1_from_note else \
                f"{item.level1}（{_text(item.level1_weight)}分）"
            level2 = f"{item.level2[:-2]}\n指标" if v.level2_split and item.level2.endswith("指标") else item.level2
            name = f"指标{k}：{item.indicator}" if v.prefixes else item.indicator
            rows.append({"item": item, "n": n, "level1": item.level1, "level2": item.level2, "level1_shown": level1,
                         "level2_shown": level2, "indicator_shown": name})
            last_of_group = n + 1 == len(self.form.indicators) or self.form.indicators[n + 1].level2 != item.level2
            if v.filler_rows and last_of_group and item.level1 == "产出指标":
                for filler in (f"指标{k + 1}：", "……"):
                    rows.append({**rows[-1], "item": None, "n": None, "indicator_shown": filler})
        return rows


# --- a year of forms ------------------------------------------------------------------------------

def plan_project_forms(year: int, count: int, *, seed: int = 0, slip_share: float = 0.3, broken_share: float = 0.05,
                       forms_per_workbook: tuple[int, int] = (1, 4)) -> list[SynthWorkbook]:
    """The workbooks synth_project_forms writes, as records: the same arguments give the same forms."""
    plan = _rng(seed, year, "plan")
    books, index = [], 0
    named: dict[tuple[str, str], int] = {}  # a unit files each project once: a repeated name is another batch
    while index < count:
        n = min(count - index, plan.randint(*forms_per_workbook))
        variant = draw_variant(_rng(seed, year, "variant", len(books)))
        forms = []
        for _ in range(n):
            draw = _rng(seed, year, "fate", index)
            broken = draw.choice(BROKEN) if draw.random() < broken_share else None
            slip = draw.choice(SLIPS) if not broken and draw.random() < slip_share else None
            form = build_form(seed, year, index, variant, slip=slip, broken=broken)
            if form.project:
                base = (form.unit_name, form.project)
                named[base] = batch = named.get(base, 0) + 1
                if batch > 1:
                    form.project = f"{form.project}（第{batch}批）"
            forms.append(form)
            index += 1
        books.append(SynthWorkbook(f"项目自评_{year}_{len(books) + 1:05d}.xlsx", variant, forms))
    return books


def manifest_path(out_dir: Path, year: int) -> Path:
    """Beside the year folders, not in one: a file in raw/<year>/ is an input."""
    return Path(out_dir) / f"project_forms_{year}.json"


def synth_project_forms(out_dir: Path, year: int, count: int, *, seed: int = 0, slip_share: float = 0.3,
                        broken_share: float = 0.05, forms_per_workbook: tuple[int, int] = (1, 4),
                        processes: int = 1) -> list[Path]:
    """`count` project forms of `year` in out_dir/<year>/, one to four per workbook, and a manifest
    (out_dir/project_forms_<year>.json: each form's sheet, identity, slips and breakage). `processes` > 1
    writes the workbooks in that many processes (a province's 100,000 forms take about 12 minutes in one);
    the bytes are the same either way."""
    folder = Path(out_dir) / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    books = plan_project_forms(year, count, seed=seed, slip_share=slip_share, broken_share=broken_share,
                               forms_per_workbook=forms_per_workbook)
    jobs = [(folder / book.name, book.forms, book.variant) for book in books]
    if processes > 1:
        with ProcessPoolExecutor(processes) as pool:
            written = list(pool.map(_write, jobs, chunksize=64))
    else:
        written = [_write(job) for job in jobs]
    paths = []
    for book, (path, placed) in zip(books, written, strict=True):  # where a child process put each figure
        paths.append(path)
        for form, (sheet, cells) in zip(book.forms, placed, strict=True):
            form.sheet, form.cells = sheet, cells
    manifest = [_manifest_entry(book) for book in books]
    manifest_path(out_dir, year).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


def correct_project_forms(out_dir: Path, year: int, share: float, *, revision: int = 1, seed: int = 0,
                          slip_share: float = 0.3, broken_share: float = 0.05,
                          forms_per_workbook: tuple[int, int] = (1, 4)) -> list[Path]:
    """Rewrite round(share × workbooks) of a set synth_project_forms wrote (same arguments) as their units
    correct them: every form of a chosen workbook printed by the rules and readable, its 结论 marked with the
    revision, so the bytes change even where nothing was wrong; the projects keep their identity. The
    manifest follows. Returns the rewritten paths."""
    folder = Path(out_dir) / str(year)
    manifest = json.loads(manifest_path(out_dir, year).read_text(encoding="utf-8"))
    books = plan_project_forms(year, sum(len(book["forms"]) for book in manifest), seed=seed, slip_share=slip_share,
                               broken_share=broken_share, forms_per_workbook=forms_per_workbook)
    count = min(len(books), max(1, round(len(books) * share))) if share > 0 else 0
    chosen = sorted(_rng(seed, year, "correct", revision).sample(range(len(books)), count))
    paths = []
    for i in chosen:
        book = books[i]
        corrected = [build_form(seed, year, f.index, book.variant) for f in book.forms]
        for form, planned in zip(corrected, book.forms, strict=True):
            form.project = planned.project  # its batch, where the plan gave it one
            form.conclusion += f"（第{revision}次修订）"
        book.forms = corrected
        paths.append(write_forms_workbook(folder / book.name, book.forms, book.variant))
        manifest[i] = _manifest_entry(book)
    manifest_path(out_dir, year).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


def _manifest_entry(book: SynthWorkbook) -> dict:
    return {"file": book.name, "variant": dataclasses.asdict(book.variant),
            "forms": [{"sheet": f.sheet, "project": f.project, "unit_name": f.unit_name,
                       "project_code": f.project_code, "slips": f.slips, "broken": f.broken,
                       "expected_rule": f.expected_rule, "expected_cell": f.expected_cell} for f in book.forms]}


def _write(job: tuple[Path, list[SynthForm], FormVariant]) -> tuple[Path, list[tuple[str, dict[str, str]]]]:
    path = write_forms_workbook(*job)
    return path, [(form.sheet, form.cells) for form in job[1]]
