"""Turning hand-typed spreadsheet cells into exact numbers.

Cells arrive from calamine as float, int, bool, str or '' (empty). Text is what
clerks type: full-width digits, thousands separators, a trailing 万元 or %.
Nothing here uses float arithmetic: a float cell becomes Decimal(repr(x)),
which is the shortest decimal that Excel's double stands for.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from jixiao.ingest.limits import MAX_AMOUNT_YUAN

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"(?<=\d),(?=\d{3}(\D|$))")
_EMPTY_MARKS = {"", "-", "—", "——", "--", "/", "无", "不适用"}
EXCEL_ERRORS = frozenset({"#DIV/0!", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                          "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})

# 元 per unit; longest names first so 万元 is not read as 元.
_UNIT_SCALES = (("亿元", Decimal(100_000_000)), ("万元", Decimal(10_000)), ("千元", Decimal(1_000)), ("元", Decimal(1)))
WAN = Decimal(10_000)
CENT = Decimal("0.01")
_FLOAT_NOISE = Decimal("0.000001")


class CellValueError(ValueError):
    """A cell whose content is not the number its column needs."""

    def __init__(self, rule: str, message: str, value: object):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.value = "" if value is None else str(value)


def short_text_cache(fn):
    """Memoize a function of one value, for short strings only.

    Labels and values (部门名称, ≥95%, 是) repeat on every row and in every
    workbook: a province's run meets the same few thousand strings millions of
    times. Long text (notes, descriptions) rarely repeats and would fill the
    cache: at most 16,384 strings of 64 characters are kept. Any other value
    goes to the function uncached (and 1, 1.0 and True never share an entry).
    """
    cached = functools.lru_cache(maxsize=1 << 14)(fn)

    @functools.wraps(fn)
    def wrapper(value):
        return cached(value) if type(value) is str and len(value) <= 64 else fn(value)

    return wrapper


def normalize_text(value: object) -> str:
    """Text as written, trimmed, inner whitespace runs to one space.

    Punctuation is kept as the department wrote it (，stays ，): this is the
    text the report shows. Matching uses `compact` instead.
    """
    # split() splits at runs of what r"\s" matches, and drops them at the ends, in one C call:
    # cheaper than looking a text up in a cache, so this one is not remembered.
    if isinstance(value, str):
        return " ".join(value.split())
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)  # beyond 1e16 a float's integer digits are binary noise: repr says 1e+30
    return " ".join(str(value).split())


@short_text_cache
def compact(value: object) -> str:
    """For comparing labels and reading numbers: NFKC (full-width digits and punctuation
    to ASCII) and no spaces at all."""
    return "".join(unicodedata.normalize("NFKC", normalize_text(value)).split())


_FULL_WIDTH_NUMBER = str.maketrans("０１２３４５６７８９％．", "0123456789%.")


def half_width_digits(text: str) -> str:
    """１２３．５％ -> 123.5%: digits typed in full-width mode; other full-width punctuation (，：) is kept."""
    return text.translate(_FULL_WIDTH_NUMBER)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def unit_scale(text: str) -> Decimal | None:
    """元 per unit named in a title or header (（单位：万元）, 预算金额（元）), or None."""
    text = compact(text)
    for name, scale in _UNIT_SCALES:
        if name in text:
            return scale
    return None


def parse_decimal(value: object, *, what: str = "数值") -> Decimal:
    """An exact Decimal from a number cell or number text; raises CellValueError otherwise."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellValueError("number.not_a_number", f"{what}不是有效数字", value)
        return Decimal(repr(value))
    if isinstance(value, bool):
        raise CellValueError("number.not_a_number", f"{what}应为数字，实际为逻辑值", value)
    if isinstance(value, int):
        return Decimal(value)
    try:
        if isinstance(value, str):
            number = _plain_decimal(value)
            if number is None:
                number = _text_decimal(value)
        else:
            number = _compact_decimal(compact(value))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid literals
        raise CellValueError("number.not_a_number", f"{what}不是有效数字", value) from exc
    if number is None:
        raise _not_a_decimal(value, what)
    return number


# A number written plainly in ASCII (12, -3.50, 1,234.5): compact leaves it as it is, it names
# no unit, and its only commas group thousands.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)")


def _plain_decimal(text: str) -> Decimal | None:
    """_text_decimal of a plainly written number, read directly; None for any other text.

    Amounts are mostly written once: remembering them only pushes out the texts that do
    repeat (tests/test_fast_paths.py holds it to _text_decimal)."""
    if _PLAIN_NUMBER.fullmatch(text):
        return Decimal(text.replace(",", "") if "," in text else text)
    return None


@short_text_cache  # the same texts (12.5, 1,234.50, －) recur in every workbook; a Decimal is immutable
def _text_decimal(text: str) -> Decimal | None:
    return _compact_decimal(compact(text))


def _compact_decimal(text: str) -> Decimal | None:
    """The number a compact text writes (1,234.50, 12万元 less its unit), or None: _not_a_decimal says why."""
    if text in _EMPTY_MARKS or text.upper() in EXCEL_ERRORS:
        return None
    if "," in text:  # most numbers have no thousands separator to drop
        text = _GROUPED.sub("", text)
    for name, _ in _UNIT_SCALES:
        if text.endswith(name):
            text = text[: -len(name)]
            break
    return Decimal(text) if _NUMBER.match(text) else None


def _not_a_decimal(value: object, what: str) -> CellValueError:
    text = compact(value)
    if text in _EMPTY_MARKS:
        return CellValueError("number.missing", f"{what}为空", value)
    if text.upper() in EXCEL_ERRORS:
        return CellValueError("number.excel_error", f"{what}是 Excel 错误值 {text}，请检查公式", value)
    return CellValueError("number.not_a_number", f"{what}应为数字，实际填写为“{normalize_text(value)}”", value)


def parse_amount(value: object, scale: Decimal, *, what: str = "金额") -> tuple[Decimal, bool]:
    """Money in 元, two decimals.

    Returns (yuan, exact). `exact` is False when the written amount had more
    than cent precision, so the caller can say so instead of rounding silently.
    """
    plain = _plain_decimal(value) if isinstance(value, str) else None
    if plain is not None:
        yuan = plain * scale  # a plain number names no unit
    else:
        text_scale = unit_scale(value) if isinstance(value, str) else None
        yuan = parse_decimal(value, what=what) * (text_scale or scale)
    if abs(yuan) >= MAX_AMOUNT_YUAN:  # also keeps quantize() within Decimal's precision
        raise CellValueError("number.too_large", f"{what}数值过大，请检查是否多填了位数或单位", value)
    cents = yuan.quantize(CENT, rounding=ROUND_HALF_UP)  # as the findings say (四舍五入), not Decimal's half-even
    # A float cell can carry binary noise below a millionth of a yuan; that is not precision.
    return cents, abs(cents - yuan) < _FLOAT_NOISE


def parse_rate(value: object, *, what: str = "比率") -> Decimal:
    """A rate as a fraction: "97.65%" -> 0.9765.

    Without a % sign the magnitude decides: up to 3 it is already a fraction
    (an Excel percent cell holds 0.9765), above 3 it is written in percent
    points (97.65). Rates beyond 300% written without % are read as points.
    """
    text = compact(value) if isinstance(value, str) else None
    if text is not None and text.endswith("%"):
        return parse_decimal(text[:-1], what=what) / 100
    number = parse_decimal(value, what=what)
    return number if abs(number) <= 3 else number / 100


def decimals_of(value: object) -> int:
    """How many decimals a reported number was written with (97.65% -> 2, 18 -> 0)."""
    if isinstance(value, float):
        value = repr(value)
    text = compact(value).rstrip("%")
    for name, _ in _UNIT_SCALES:
        text = text.removesuffix(name)
    _, _, frac = text.partition(".")
    return len(frac) if frac.isdigit() else 0
