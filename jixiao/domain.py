"""The domain's types: a finding (what a clerk reads and a data engineer queries) and a department as read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from jixiao.ingest import limits
from jixiao.ingest.numbers import normalize_text

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    rule: str  # stable English id, e.g. "score.weights_sum"
    message: str  # Chinese, for the department's clerk
    file: str
    sheet: str | None = None
    cell: str | None = None
    value: str | None = None
    dept_code: str | None = None

    def located(self) -> str:
        where = self.file
        if self.sheet:
            where += f" › {self.sheet}"
            if self.cell:
                where += f"!{self.cell}"
        return where

    def __str__(self) -> str:
        found = f"（填写值：{self.value}）" if self.value not in (None, "") else ""
        return f"{self.located()}：{self.message}{found} [{self.rule}]"

    def as_row(self) -> dict:
        return asdict(self)


def cell_ref(row: int, col: int) -> str:
    """1-based Excel row and 0-based column index -> "B7"."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


@dataclass
class Department:
    file: str
    year: int | None = None
    dept_code: str | None = None
    info: dict = field(default_factory=dict)
    rows: dict[str, list[dict]] = field(default_factory=dict)  # table key -> typed rows
    findings: list[Finding] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    columns: dict[str, dict[str, int]] = field(default_factory=dict)  # sheet -> column key -> index
    ignored_sheets: list[str] = field(default_factory=list)  # sheets of no known name, listed in the run's report
    basic_sheet: str | None = None  # the 基本情况 sheet as named in the workbook
    basic_cells: dict[str, str] = field(default_factory=dict)  # 基本情况 key (BASIC_KEYS) -> A1 of its value

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def error(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value: object = None) -> None:
        self._add("error", rule, message, sheet, cell, value)

    def warn(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value: object = None) -> None:
        self._add("warning", rule, message, sheet, cell, value)

    def _add(self, severity, rule, message, sheet, cell, value) -> None:
        shown = None if value is None else normalize_text(value)
        if shown is not None and len(shown) > limits.FINDING_VALUE_CHARS:
            shown = shown[: limits.FINDING_VALUE_CHARS] + "…"
        self.findings.append(Finding(severity, rule, message, self.file, sheet, cell, shown, self.dept_code))

    def quarantine(self, sheet: str, row: int, cells: dict, reason: str, rule: str) -> None:
        self.quarantined.append({
            "file": self.file, "sheet": sheet, "row": row, "rule": rule, "reason": reason,
            "cells": json.dumps({k: normalize_text(v) for k, v in cells.items()}, ensure_ascii=False),
        })
