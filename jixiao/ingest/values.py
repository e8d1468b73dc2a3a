"""Reading 指标值 / 实际完成值 cells: a number with its comparator and unit, or words.

People write values inside sentences ("设置 6 项残疾人运动比赛", "满意度达 98%"),
so the measured number is found rather than required. When the text could mean
two different values the cell goes to review instead of being guessed.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal, NamedTuple

from jixiao.ingest.numbers import short_text_cache

Direction = Literal["higher", "lower", "qualitative", "not_applicable"]

MAX_LENGTH = 500

TIME_UNITS = frozenset({"天", "日", "个工作日", "工作日", "周", "个月", "月", "年", "个小时", "小时", "分钟", "秒"})
UNITS = frozenset({
    "%", "‰", "个百分点", "百分点",
    "例", "户", "户次", "家", "家次", "人", "人次", "人天", "人日", "名", "位", "张", "项", "项次", "个", "次",
    "场", "场次", "所", "间", "台", "辆", "套", "件", "批", "批次", "期", "篇", "份", "本", "册", "条", "处",
    "座", "块", "棵", "株", "只", "头", "床", "届", "轮", "课时", "学时", "分", "倍",
    "公里", "千米", "米", "厘米", "毫米", "平方米", "平方公里", "立方米", "亩", "公顷", "吨", "千克", "公斤", "克", "升",
    "元", "千元", "万元", "亿元", "万", "亿", "万人", "万人次", "万户", "万册", "万件", "万次", "万吨", "万亩", "万平方米",
    *TIME_UNITS,
})
_UNITS_LONGEST_FIRST = sorted(UNITS, key=len, reverse=True)
_UNIT_AT = re.compile("|".join(map(re.escape, _UNITS_LONGEST_FIRST)))

_NOT_APPLICABLE = {"无", "暂无", "不适用", "不涉及", "n/a", "na"}
_DASHES = set("-—–―/\\")

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
# NFKC would turn these into bare digits ("㎡" -> "m2") that read as values.
_PRE_MAP = {"㎡": "平方米", "㎥": "立方米", "m²": "平方米", "m³": "立方米"}
_PRE_MAP_RE = re.compile("|".join(map(re.escape, _PRE_MAP)))
_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")

_MASK_CHAR = "\ue000"
# Numbers that are dates, years, ordinals, codes or list markers, never the measured value.
_NOT_MEASURED = re.compile("|".join([
    r"(?<![0-9.])[0-9]{4}\s*[-/.]\s*[0-9]{1,2}\s*[-/.]\s*[0-9]{1,2}(?![0-9])",
    r"(?<![0-9.])(?:[0-9]{4}\s*年\s*)?[0-9]{1,2}\s*月\s*[0-9]{1,2}\s*[日号]",
    r"(?<![0-9.])[0-9]{4}\s*年\s*[0-9]{1,2}\s*月",
    r"(?<![0-9.])(?:19|20)[0-9]{2}\s*[-~至到—]\s*(?:19|20)[0-9]{2}\s*年",
    r"(?<![0-9.])(?:19|20)[0-9]{2}\s*年",
    r"第\s*[0-9]+",
    r"[A-Za-z]+[0-9]+(?:\.[0-9]+)*",
    r"^\(?[0-9]{1,2}\s*[)、.](?![0-9])",
]))
_CLAUSE_BREAK = re.compile(f"[,;。、{_MASK_CHAR}]")
_RANGE_GAP = {"", "-", "~", "至", "到", "—", "–", "——", "或", "、", "/"}

_PREFIX_OPS = re.compile("|".join([
    r"(?P<ge_neg>[不未](?:得|应|能|宜|可|会)?(?:低于|少于|小于))",
    r"(?P<le_neg>[不未](?:得|应|能|宜|可|会)?(?:高于|超过|超出|多于|大于))",
    r"(?P<ge>大于或等于|大于等于|至少|最少|>=|≥|≧|⩾|≮)",
    r"(?P<le>小于或等于|小于等于|控制在|最多|低于|少于|<=|≤|≦|⩽|≯)",
    r"(?P<gt>大于|超过|高于|多于|>)",
    r"(?P<lt>小于|<)",
    r"(?P<eq>等于|=)",
]))
_OP_OF_GROUP = {"ge_neg": ">=", "le_neg": "<=", "ge": ">=", "le": "<=", "gt": ">", "lt": "<", "eq": "="}
_SUFFIX_OPS = (("及以上", ">="), ("或以上", ">="), ("以上", ">="),
               ("及以下", "<="), ("或以下", "<="), ("以下", "<="), ("及以内", "<="), ("以内", "<="), ("之内", "<="))
_SUFFIX_WORDS = tuple(word for word, _ in _SUFFIX_OPS)

_QUESTION = re.compile("是否|能否|可否|与否")
_NOT_MET = re.compile(r"未能?(?:达到|达成|完成|实现|达标|通过|落实|满足|符合)|没能?(?:达到|达成|完成|实现)|没有"
                      r"|不(?:符合|合格|达标|满足)|尚未|无效|不是|失败")
# Partial achievement is for a person to judge, not a yes.
_PARTLY = re.compile("基本|部分|不完全|未完全|接近")
_MET = re.compile("达到|达成|完成|实现|达标|合格|符合|有效|通过|落实|满足")
_MET_EXACT = {"是": True, "否": False, "√": True, "×": False}


@dataclass(frozen=True)
class IndicatorValue:
    text: str
    number: Decimal | None
    unit: str | None
    comparator: str | None
    direction: Direction
    met: bool | None = None


class ValueParseError(ValueError):
    def __init__(self, rule: str, message: str, value: str) -> None:
        super().__init__(rule, message, value)
        self.rule, self.message, self.value = rule, message, value

    def __str__(self) -> str:
        return self.message


class _Token(NamedTuple):  # a tuple: made for every number of every value read
    number: Decimal
    unit: str | None
    prefix_op: str | None
    suffix_op: str | None
    gap_before: str | None  # text between the previous number and this one


def parse_indicator_value(value: object) -> IndicatorValue:
    if value is None:
        raise _empty("")
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise ValueParseError("indicator.value_type", "单元格是日期或时间格式，请改为数值或文字后重新填写", str(value))
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, (numbers.Real, Decimal)):
        return _parse_cell_number(value)
    raw = _safe_str(value)
    raise ValueParseError("indicator.value_type", f"无法识别的单元格内容（{type(value).__name__}），请填写数值或文字", raw)


_UNITLESS: frozenset[Direction] = frozenset({"qualitative", "not_applicable"})


def units_compatible(target: IndicatorValue, actual: IndicatorValue) -> bool:
    if target.direction in _UNITLESS or actual.direction in _UNITLESS:
        return True
    return target.unit == actual.unit


def measures_nothing_against(target: IndicatorValue, actual: IndicatorValue) -> bool:
    """An actual of words that neither give a figure nor say met or not (很多, 较好) against a target
    that is a figure (17000 户): no completion rate can be computed from it."""
    return (target.number is not None and target.direction in ("higher", "lower")
            and actual.direction == "qualitative" and actual.met is None)


def _parse_cell_number(value: numbers.Real | Decimal) -> IndicatorValue:
    try:
        if isinstance(value, Decimal):
            text = str(value)
        elif isinstance(value, numbers.Integral):
            text = str(int(value))
        else:
            text = repr(float(value))
    except ValueError:  # str() refuses ints of thousands of digits
        raise ValueParseError("indicator.value_too_long", f"内容过长（最多 {MAX_LENGTH} 字）", "") from None
    except OverflowError:
        raise ValueParseError("indicator.value_invalid", "不是有效的数值", _safe_str(value)) from None
    number = Decimal(text)
    if number.is_nan():
        raise _empty(text)  # pandas and friends hand empty cells over as NaN
    if not number.is_finite():
        raise ValueParseError("indicator.value_invalid", "不是有效的数值", text)
    if len(text) > MAX_LENGTH:
        raise _too_long(text)
    return IndicatorValue(text, number, None, None, "higher")


@short_text_cache  # 指标值 repeat across departments (≥95%, 100%, 是); the result is frozen
def _parse_text(raw: str) -> IndicatorValue:
    cleaned = _cleaned(raw)
    text = _normalize(cleaned)
    if not text:
        raise _empty(raw)
    if len(text) > MAX_LENGTH:
        raise _too_long(raw, len(text))
    bare = text.rstrip("。.")
    if bare.casefold() in _NOT_APPLICABLE or (bare and set(bare) <= _DASHES):
        return IndicatorValue(text, None, None, None, "not_applicable")
    tokens = _tokens(_normalize(cleaned, for_numbers=True))
    if not tokens:
        return IndicatorValue(text, None, None, None, "qualitative", _met(text))
    token = _measured(tokens, raw, text)
    ops = {op for op in (token.prefix_op, token.suffix_op) if op}
    if len({_direction(op) for op in ops}) > 1:
        raise ValueParseError("indicator.value_ambiguous",
                              f"“{_preview(text)}”的比较方式相互矛盾（如同时写了“不低于”和“以内”），请只保留一种", raw)
    comparator = token.prefix_op or token.suffix_op
    return IndicatorValue(text, token.number, token.unit, comparator, _direction(comparator))


def _cleaned(s: str) -> str:
    """Invisible characters dropped, spaces collapsed, ㎡ and the like spelled out: what _normalize starts from."""
    return _PRE_MAP_RE.sub(lambda m: _PRE_MAP[m.group()], " ".join(_INVISIBLE.sub("", s).split()))


def _normalize(s: str, *, for_numbers: bool = False) -> str:
    """`s` as _cleaned returns it, normalized for reading (NFKC); for_numbers: for finding its numbers."""
    if for_numbers:
        s = "".join(" " if _digit_like(ch) else ch for ch in s)
    s = " ".join(unicodedata.normalize("NFKC", s).replace("\u2212", "-").split())
    return _THOUSANDS.sub("", s) if for_numbers else s


@lru_cache(maxsize=4096)
def _digit_like(ch: str) -> bool:
    """①, ², ⒈ and the like: NFKC makes them digits, but they number list items or write exponents."""
    return not ch.isascii() and not ch.isdecimal() and any(c.isdigit() for c in unicodedata.normalize("NFKC", ch))


def _tokens(w: str) -> list[_Token]:
    w = _NOT_MEASURED.sub(lambda m: _MASK_CHAR * len(m.group()), w)
    tokens: list[_Token] = []
    window_start = 0
    previous_end: int | None = None
    for m in _NUMBER.finditer(w):
        start, digits_end = m.span()
        sign = ""
        # A dash right after a digit or % joins a range (90%-100%), it is not a minus sign.
        if start and w[start - 1] in "+-" and (start < 2 or w[start - 2] not in "0123456789%."):
            sign = w[start - 1]
        window = w[window_start:start - len(sign)]
        window = _CLAUSE_BREAK.split(window)[-1]
        ops = list(_PREFIX_OPS.finditer(window))
        prefix_op = _OP_OF_GROUP[ops[-1].lastgroup] if ops else None  # type: ignore[index]
        unit, end = _unit_at(w, digits_end)
        if unit is None and window.endswith("百分之"):
            unit = "%"
        suffix_op, after = _suffix_op_at(w, end, unit)
        gap = None if previous_end is None else w[previous_end:start].strip()
        tokens.append(_Token(Decimal(sign + m.group()), unit, prefix_op, suffix_op, gap))
        window_start, previous_end = after, end
    return tokens


def _unit_at(w: str, pos: int) -> tuple[str | None, int]:
    p = _skip_spaces(w, pos)
    if w.startswith(("多", "余"), p):  # 100余人: still 人
        p = _skip_spaces(w, p + 1)
    unit = _known_unit(w, p)
    if unit is None:
        return None, pos
    p += len(unit)
    while w.startswith("/", p) and (per := _known_unit(w, p + 1)):  # 元/人, 次/年
        unit += "/" + per
        p += 1 + len(per)
    return unit, p


def _known_unit(w: str, pos: int) -> str | None:
    match = _UNIT_AT.match(w, pos)  # alternatives longest first: the longest unit wins
    return match.group() if match else None


def _suffix_op_at(w: str, pos: int, unit: str | None) -> tuple[str | None, int]:
    p = _skip_spaces(w, pos)
    if w.startswith(_SUFFIX_WORDS, p):  # rarely: one test for all of them first
        for word, op in _SUFFIX_OPS:
            if w.startswith(word, p):
                return op, p + len(word)
    if unit in TIME_UNITS and w.startswith("内", p):  # 3个工作日内
        return "<=", p + 1
    return None, pos


def _skip_spaces(w: str, pos: int) -> int:
    while pos < len(w) and w[pos] == " ":
        pos += 1
    return pos


def _measured(tokens: list[_Token], raw: str, text: str) -> _Token:
    with_unit = [t for t in tokens if t.unit]
    if len(with_unit) > 1 or (not with_unit and len(tokens) > 1):
        raise ValueParseError("indicator.value_ambiguous",
                              f"“{_preview(text)}”中有多个数值，无法确定以哪个为准，请只保留一个数值", raw)
    chosen = with_unit[0] if with_unit else tokens[0]
    i = tokens.index(chosen)
    # A bare number joined to the chosen one (95-98%, 16 200 人) is a range or a split number, not a label.
    if chosen.gap_before in _RANGE_GAP or (i + 1 < len(tokens) and tokens[i + 1].gap_before in _RANGE_GAP):
        raise ValueParseError("indicator.value_ambiguous",
                              f"“{_preview(text)}”像是一个范围或被拆开的数值，请填写一个确定的数值", raw)
    return chosen


def _direction(comparator: str | None) -> Direction:
    return "lower" if comparator in ("<=", "<") else "higher"


def _met(text: str) -> bool | None:
    bare = text.strip("。.! ")
    if bare in _MET_EXACT:
        return _MET_EXACT[bare]
    words = _QUESTION.sub("", text)
    if _NOT_MET.search(words):
        return False
    if _PARTLY.search(words):
        return None
    return True if _MET.search(words) else None


def _empty(raw: str) -> ValueParseError:
    return ValueParseError("indicator.value_empty", "填写内容为空", raw)


def _too_long(raw: str, length: int | None = None) -> ValueParseError:
    n = len(raw) if length is None else length
    return ValueParseError("indicator.value_too_long",
                           f"内容过长（{n} 字，最多 {MAX_LENGTH} 字），请只填写数值或简短说明", raw)


def _preview(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # an arbitrary object's __str__ may raise anything
        return f"<{type(value).__name__}>"
