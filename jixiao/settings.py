"""One typed settings object for a run; the CLI, the flow and the tests build it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"


@dataclass(frozen=True)
class Settings:
    year: int
    raw_dir: Path = Path("raw")
    warehouse: Path = Path("warehouse/jixiao.duckdb")
    out_dir: Path = Path("warehouse/reports")
    departments: tuple[str, ...] = ()  # empty: every department of the year
    ruleset: str | None = None  # None: the workbook's 评分规则, else the default rule set
    force: bool = False  # run even when inputs and code are unchanged since the last finished run
    export_dir: Path | None = None  # Parquet copies of the marts; None: <warehouse folder>/export
    formats: tuple[str, ...] | None = None  # outputs to draw (jixiao/publish/outputs.py); None: all
    runner: str = "local"  # "dask": reading and drawing on the flow's Dask cluster (prefect-dask)
    sql_dir: Path = SQL_DIR
    rules_file: Path | None = None  # a bureau's own rule sets beside the shipped ones (docs/rule-sets.md)

    @property
    def year_dir(self) -> Path:
        return self.raw_dir / str(self.year)

    @property
    def parquet_dir(self) -> Path:
        return self.export_dir or self.warehouse.parent / "export"

    def report_dir(self, dept_code: str) -> Path:
        return self.out_dir / str(self.year) / dept_code


def sql_file(name: str) -> str:
    """The text of sql/<name>: queries live in sql/, not in Python strings."""
    return (SQL_DIR / name).read_text(encoding="utf-8")
