"""Cell text made harmless where it is shown by programs that interpret it.

A workbook's cells reach a CSV file meant to be opened in Excel, and the
Prefect UI's markdown. In a spreadsheet a text starting with = + - @ is run as
a formula (`=HYPERLINK(…)`, `=cmd|…`); in markdown, brackets make links and
images (`javascript:` ones too), and HTML passes through. Numbers stay as they
are: -444.3 is a value, not a formula.
"""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)(e[+-]?\d+)?%?$", re.I)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#!|~])")


def spreadsheet_text(text: str) -> str:
    """Text a spreadsheet shows as written: a leading apostrophe before what would start a formula."""
    if text and text.startswith(_FORMULA_START) and text.strip() not in ("-", "+") and not _NUMBER.match(text.strip()):
        return "'" + text
    return text


def markdown_text(text: str) -> str:
    """Text markdown shows as written, on one line: its markup escaped, HTML as entities."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", " ".join(text.splitlines()))
