"""Column widths fitted to a table's text, and the lines a wrapped cell takes, for Excel and Word.

Widths are counted in units of half an em: a CJK character (East Asian wide or
fullwidth) is two, a Latin letter or digit one, so "三级指标" is 8. Number columns
get their widest figure and never wrap; text columns get their longest line up to
a maximum, and give up width first when the page is too narrow. Excel and Word
then turn units into their own measures.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

from jixiao.publish.tables import ReportTable, cell_text

# A text column keeps at least this (four CJK characters) before the others shrink further.
_MIN_TEXT = 8
# Room for the cell's own margins (Word's are 0.19 cm a side, about two units) and a unit to spare
# for glyphs wider than half an em (%, bold text).
PADDING = 3


@lru_cache(maxsize=4096)
def _char_units(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _line_units(text: str) -> list[int]:
    return [sum(_char_units(ch) for ch in line) for line in text.split("\n")]


def units(text: str) -> int:
    """The width of the text's longest line, in half-em units."""
    return max(_line_units(text), default=0)


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes in a column `width` units wide (its padding included)."""
    room = max(width - PADDING, 1)
    return sum(max(1, math.ceil(n / room)) for n in _line_units(text))


def natural_widths(table: ReportTable, cap: float) -> tuple[list[float], list[float]]:
    """(natural, minimum) width of each body column, in units with padding: the natural width is the
    longest line of its header and cells (text columns at most `cap`), the minimum what it keeps."""
    natural, minimum = [], []
    for column in table.body_columns:
        header = units(table.header(column))
        longest = max((units(cell_text(row[column.key], column.kind)) for row in table.rows), default=0)
        if column.is_number:
            widest = max(longest, min(header, _MIN_TEXT))
            natural.append(max(longest, header) + PADDING)
            minimum.append(widest + PADDING)
        else:
            width = min(max(longest, header), cap)
            natural.append(width + PADDING)
            minimum.append(min(width, _MIN_TEXT) + PADDING)
    return natural, minimum


def fit_widths(table: ReportTable, total: float, cap: float) -> list[float]:
    """Body column widths in units summing to `total`: each column's natural width, scaled up to fill
    the line, or with the text columns' surplus over their minimum given up, in proportion, to fit."""
    natural, minimum = natural_widths(table, cap)
    wanted = sum(natural)
    if wanted <= total:
        return [w * total / wanted for w in natural]
    slack = [n - m for n, m in zip(natural, minimum, strict=True)]
    need = wanted - total
    if sum(slack) >= need:
        share = need / sum(slack)
        return [n - s * share for n, s in zip(natural, slack, strict=True)]
    return [m * total / sum(minimum) for m in minimum]
