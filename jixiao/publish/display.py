"""How numbers are written in the report: the only place where values get rounded.

Rounding is half up, as the departments' reports round by hand; Python's round()
and float formatting round half to even and would print 97.62% for 0.976250.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

MISSING = "—"

# Quantizing a large amount to many places can exceed the default 28 digits.
_CONTEXT = Context(prec=60)

Number = Decimal | int | float


def _decimal(value: Number | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float):
        # repr() gives the shortest text that round-trips, so 2.675 stays 2.675
        # instead of Decimal(2.675) == 2.67499999...
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    raise TypeError(f"not a number: {value!r}")


def round_half_up(value: Number | None, places: int) -> Decimal | None:
    d = _decimal(value)
    if d is None:
        return None
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_CONTEXT)
    # A tiny negative difference must not print as "-0.00".
    return q.copy_abs() if q.is_zero() else q


def fmt_percent(rate: Number | None) -> str:
    """A fraction as a percent with two decimals: 1.43177 -> "143.18%"."""
    d = _decimal(rate)
    if d is None:
        return MISSING
    return f"{round_half_up(d.scaleb(2), 2):,.2f}%"


def fmt_wan(yuan: Number | None) -> str:
    """元 as 万元 with two decimals and thousands separators: 47966000 -> "4,796.60"."""
    d = _decimal(yuan)
    if d is None:
        return MISSING
    return f"{round_half_up(d.scaleb(-4), 2):,.2f}"


def fmt_score(x: Number | None) -> str:
    """A score with two decimals kept: 20 -> "20.00"."""
    q = round_half_up(x, 2)
    return MISSING if q is None else f"{q:.2f}"


def fmt_number(x: Number | None, places: int = 2) -> str:
    """Weights and counts as the report writes them, without trailing zeros: 50, 0.5, 1.5."""
    q = round_half_up(x, places)
    return MISSING if q is None else f"{q.normalize(_CONTEXT):f}"
