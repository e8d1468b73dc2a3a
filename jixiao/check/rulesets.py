"""Score rule sets: which items are computed, and how (rulesets.toml documents every method).

The shipped sets live in rulesets.toml; a bureau adds its own with `--rules-file PATH` in the
same format (docs/rule-sets.md). A set scores one form family: the department-wide report's
score items (`applies = "item"`), or a project form's indicators and budget item
(`applies = "indicator"`, `applies = "budget"`). A malformed file is refused with a message
naming its line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

RULESETS_FILE = Path(__file__).with_name("rulesets.toml")

# method -> the items it may score, and the parameters it needs
METHODS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "share_at_100": (frozenset({"item"}), frozenset({"level1s"})),
    "proportional": (frozenset({"item", "indicator"}), frozenset()),
    "budget_rate": (frozenset({"item", "budget"}), frozenset()),
    "share_met": (frozenset({"indicator"}), frozenset()),
    "banded": (frozenset({"indicator", "budget"}), frozenset({"points", "step"})),
    "penalty": (frozenset({"indicator", "budget"}), frozenset({"threshold", "per_point"})),
    "tiers": (frozenset({"indicator", "budget"}), frozenset({"tiers"})),
    "entered": (frozenset({"item", "indicator", "budget"}), frozenset()),
}
FAMILIES = {"department": "item", "project": "indicator"}  # a family's default `applies`
_NUMBERS = ("upper_band", "weight", "step", "points", "threshold", "per_point", "otherwise")
_KEYS = frozenset({"match", "method", "applies", "level1s", "level2s", "source_indicator", "value", "penalise",
                   "tiers", "tier_side", *_NUMBERS})
PARAMETER = pl.Decimal(18, 6)
SCHEMA = {
    "ruleset": pl.String, "rule_no": pl.Int32, "item_match": pl.String, "method": pl.String,
    "level1s": pl.List(pl.String), "source_indicator": pl.String, "applies": pl.String,
    "level2s": pl.List(pl.String), "upper_band": PARAMETER, "weight": PARAMETER, "step": PARAMETER,
    "points": PARAMETER, "threshold": PARAMETER, "per_point": PARAMETER, "penalise": pl.String,
    "value_of": pl.String, "tier_bounds": pl.List(PARAMETER), "tier_points": pl.List(PARAMETER),
    "tier_side": pl.String, "tier_otherwise": PARAMETER,
}


class RuleFileError(ValueError):
    """A rule-set file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class RuleSets:
    defaults: dict[str, str]  # family -> its default set
    descriptions: dict[str, str]
    families: dict[str, str]  # set -> the family it scores
    rules: pl.DataFrame  # one row per rule, SCHEMA

    def __contains__(self, name: str) -> bool:
        return name in self.descriptions

    @property
    def default(self) -> str:
        """The set for a department workbook that names none."""
        return self.defaults["department"]

    def default_for(self, family: str) -> str:
        return self.defaults[family]


def load_rulesets(path: Path = RULESETS_FILE, extra: Path | None = None) -> RuleSets:
    """The shipped sets, and a bureau's own from `extra` (a set of the same name replaces the shipped one)."""
    files = [path] + ([extra] if extra else [])
    sets: dict[str, tuple[Path, str, dict]] = {}
    defaults: dict[str, str] = {}
    for file in files:
        text = _text(file)
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RuleFileError(f"评分规则文件 {file} 格式有误：{exc} [rules.toml_syntax]") from None
        for name, ruleset in config.get("rulesets", {}).items():
            sets[name] = (file, text, ruleset)
        for key, family in (("default", "department"), ("project_default", "project")):
            if key in config:
                defaults[family] = config[key]
    rows = []
    for name, (file, text, ruleset) in sets.items():
        family = ruleset.get("family", "department")
        if family not in FAMILIES:
            raise _error(file, text, name, None, f"family 应为 {'、'.join(FAMILIES)} 之一，填写的是“{family}”")
        for no, rule in enumerate(ruleset.get("rules", []), start=1):
            rows.append(_rule_row(file, text, name, no, family, rule))
    for name in defaults.values():
        if name not in sets:
            raise RuleFileError(f"评分规则文件中默认规则“{name}”未定义 [rules.default_unknown]")
    return RuleSets(
        defaults,
        {name: rs.get("description", "") for name, (_, _, rs) in sets.items()},
        {name: rs.get("family", "department") for name, (_, _, rs) in sets.items()},
        pl.DataFrame(rows, schema=SCHEMA),
    )


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(f"无法读取评分规则文件 {file}：{exc} [rules.file_unreadable]") from None


def _rule_row(file: Path, text: str, name: str, no: int, family: str, rule: dict) -> dict:
    def fail(message: str) -> RuleFileError:
        return _error(file, text, name, no, message)

    if unknown := sorted(set(rule) - _KEYS):
        raise fail(f"不认识的参数 {'、'.join(unknown)}")
    method = rule.get("method")
    if method not in METHODS:
        raise fail(f"method 应为 {'、'.join(METHODS)} 之一，填写的是“{method}”")
    applies = rule.get("applies", FAMILIES[family])
    items, needed = METHODS[method]
    if applies not in items:
        raise fail(f"方法 {method} 不能用于 applies = “{applies}”（可用于：{'、'.join(sorted(items))}）")
    if family == "department" and applies != "item" or family == "project" and applies == "item":
        raise fail(f"applies = “{applies}”不适用于 {family} 规则集")
    if missing := sorted(needed - set(rule)):
        raise fail(f"方法 {method} 缺少参数 {'、'.join(missing)}")
    if applies == "item" and not rule.get("match"):
        raise fail("部门评分项规则必须填写 match（评分项名称中的文字）")
    numbers = {key: _decimal(rule[key], key, fail) for key in _NUMBERS if key in rule}
    tiers = rule.get("tiers", [])
    if not isinstance(tiers, list) or any(not isinstance(t, list) or len(t) != 2 for t in tiers):
        raise fail("tiers 应为 [[界限, 得分], …] 的列表")
    if rule.get("tier_side", "at_most") not in ("at_most", "at_least"):
        raise fail("tier_side 应为 at_most 或 at_least")
    if rule.get("penalise", "over") not in ("over", "below"):
        raise fail("penalise 应为 over 或 below")
    if rule.get("value", "actual") not in ("actual", "rate"):
        raise fail("value 应为 actual（实际完成值）或 rate（完成率，百分数）")
    return {
        "ruleset": name, "rule_no": no, "item_match": rule.get("match"), "method": method,
        "level1s": _names(rule, "level1s", fail), "source_indicator": rule.get("source_indicator"),
        "applies": applies, "level2s": _names(rule, "level2s", fail),
        **{key: numbers.get(key) for key in ("upper_band", "weight", "step", "points", "threshold", "per_point")},
        "penalise": rule.get("penalise", "over"), "value_of": rule.get("value", "actual"),
        "tier_bounds": [_decimal(b, "tiers", fail) for b, _ in tiers] or None,
        "tier_points": [_decimal(p, "tiers", fail) for _, p in tiers] or None,
        "tier_side": rule.get("tier_side", "at_most"), "tier_otherwise": numbers.get("otherwise", Decimal(0)),
    }


def _names(rule: dict, key: str, fail) -> list[str]:
    names = rule.get(key, [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail(f"{key} 应为名称的列表，例如 [\"产出指标\"]")
    return names


def _decimal(value: object, key: str, fail) -> Decimal:
    # TOML floats arrive as binary floats: their shortest repr is the number the bureau wrote.
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise fail(f"{key} 应为数字，填写的是“{value}”") from None


def _error(file: Path, text: str, name: str, no: int | None, message: str) -> RuleFileError:
    line = _line_of(text, name, no)
    where = f"{file} 第 {line} 行" if line else str(file)
    rule = f"规则集 {name}" + (f" 第 {no} 条规则" if no else "")
    return RuleFileError(f"评分规则文件 {where}（{rule}）：{message} [rules.invalid]")


def _line_of(text: str, name: str, no: int | None) -> int | None:
    """The line a rule set's header (or its no-th [[….rules]] table) starts on."""
    header = re.escape(name) + r'|"' + re.escape(name) + '"'
    pattern = (rf"^[ \t]*\[\[\s*rulesets\.(?:{header})\.rules\s*\]\]" if no else rf"^[ \t]*\[\s*rulesets\.(?:{header})\s*\]")
    starts = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text, flags=re.MULTILINE)]
    if not starts:
        return None
    return starts[min(no, len(starts)) - 1] if no else starts[0]
