"""The domain's types: a finding (what a clerk reads and a data engineer queries), and the inputs as read:
a department's workbook and a project form."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Literal, TypeVar

from jixiao.ingest import limits
from jixiao.ingest.numbers import normalize_text

Severity = Literal["error", "warning"]
T = TypeVar("T")


def with_same_identity(items: Iterable[T], identity: Callable[[T], str | None]) -> Iterator[tuple[T, list[T]]]:
    """(item, the other items of its identity) for every item that shares one: the year's inputs are
    grouped once (looking each duplicate's twins up in every input is quadratic in a province)."""
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        if key := identity(item):
            groups[key].append(item)
    for group in groups.values():
        for item in group if len(group) > 1 else ():
            yield item, [other for other in group if other is not item]


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
    project_key: str | None = None  # a project form's identity (jixiao/families/project/tables.py)

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


class _Findings:
    """Findings and quarantined rows of one input as read, each naming its file, sheet and cell."""

    __slots__ = ()  # its subclasses have slots: a province's hundred thousand inputs stay in memory all run
    file: str
    findings: list[Finding]
    quarantined: list[dict]

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def error(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value: object = None) -> None:
        self._add("error", rule, message, sheet, cell, value)

    def warn(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None, value: object = None) -> None:
        self._add("warning", rule, message, sheet, cell, value)

    def _identity(self) -> dict:
        return {}

    def _add(self, severity, rule, message, sheet, cell, value) -> None:
        shown = None if value is None else normalize_text(value)
        if shown is not None and len(shown) > limits.FINDING_VALUE_CHARS:
            shown = shown[: limits.FINDING_VALUE_CHARS] + "…"
        self.findings.append(Finding(severity, rule, message, self.file, sheet, cell, shown, **self._identity()))

    def quarantine(self, sheet: str, row: int, cells: dict, reason: str, rule: str) -> None:
        self.quarantined.append({
            "file": self.file, "sheet": sheet, "row": row, "rule": rule, "reason": reason,
            "cells": json.dumps({k: normalize_text(v) for k, v in cells.items()}, ensure_ascii=False),
        })


@dataclass(slots=True)
class Department(_Findings):
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

    def _identity(self) -> dict:
        return {"dept_code": self.dept_code}

    def settle(self) -> None:
        """Once its rows are staged and its own checks done, it keeps what the rest of a run reads: a province's
        ten thousand departments would otherwise hold their sheets' layouts until the run ends."""
        self.rows, self.quarantined, self.columns = {}, [], {}
        self.info = {key: self.info[key] for key in ("dept_name",) if key in self.info}
        self.basic_cells = {key: self.basic_cells[key] for key in ("dept_code",) if key in self.basic_cells}


@dataclass(slots=True)
class ProjectForm(_Findings):
    """One 项目支出绩效自评表 as read: a sheet of a workbook that may hold several."""

    file: str
    sheet: str
    form_no: int  # its place among the workbook's project forms, from 1
    year: int | None = None
    project_key: str | None = None  # jixiao/families/project/tables.py: identity()
    info: dict = field(default_factory=dict)  # the project_forms row's columns
    rows: dict[str, list[dict]] = field(default_factory=dict)  # project_funds, project_indicators rows
    findings: list[Finding] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)  # info key -> A1 of its value, for findings

    def _identity(self) -> dict:
        return {"dept_code": None, "project_key": self.project_key}

    def settle(self) -> None:
        """As Department.settle: a hundred thousand forms keep their name, the cell naming it and their findings."""
        self.rows, self.quarantined = {}, []
        self.info = {key: self.info[key] for key in ("project",) if key in self.info}
        self.cells = {key: self.cells[key] for key in ("project",) if key in self.cells}
