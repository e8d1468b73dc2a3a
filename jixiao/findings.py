"""Validation findings: what a clerk reads and a data engineer queries."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

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
