"""The `jixiao` command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="jixiao: 部门整体支出绩效自评 pipeline.")
console = Console()

# Set before Prefect is imported: there is no network to send analytics to, and the
# ephemeral server needs longer than the default 20 s to start on a busy 2-core machine.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


@app.callback()
def _main() -> None:
    """Ingest, validate, load and report departments' performance self-evaluation workbooks."""


@app.command()
def run(
    year: Annotated[int, typer.Option(help="Year to run: reads RAW/<year>/.", min=2000, max=2100)],
    dept: Annotated[list[str], typer.Option(help="Only this 部门编码 (repeatable).")] = [],  # noqa: B006
    raw: Annotated[Path, typer.Option(help="Folder holding <year>/ workbooks.")] = Path("raw"),
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file.")] = Path("warehouse/jixiao.duckdb"),
    out: Annotated[Path, typer.Option(help="Where reports are written: OUT/<year>/<部门编码>/.")] = Path("warehouse/reports"),
    rules: Annotated[str | None, typer.Option(help="Score rule set for every department (default: the workbook's 评分规则, else panyu_share).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run even when the workbooks and the code are unchanged since the last finished run.")] = False,
) -> None:
    """Run the Prefect flow for one year: ingest, validate, load, transform, emit."""
    year_dir = raw / str(year)
    if not year_dir.is_dir():
        console.print(f"[red]没有找到 {year_dir}/：请把 {year} 年的工作簿放在该文件夹中（--raw 指定上级目录）[/red]")
        raise typer.Exit(2)
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.year import run_year

    # A sync flow joins its heartbeat thread for ~1 s at the end; nothing here watches heartbeats.
    from jixiao.warehouse import WarehouseLocked

    try:
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            summary = run_year(year, raw, warehouse, out, list(dept) or None, rules, force)
    except WarehouseLocked as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from None
    if summary.skipped:
        console.print(f"{year} 年的工作簿和程序自上次运行以来均未变化，未重新处理（run {summary.run_id}；--force 可强制重跑）")
        raise typer.Exit(0)
    _print_summary(summary)
    raise typer.Exit(summary.exit_code)


def _print_summary(summary) -> None:
    table = Table(title=f"jixiao {summary.year} · run {summary.run_id}", show_header=False)
    table.add_row("已载入部门", "、".join(summary.loaded) or "无")
    table.add_row("被拒收部门", "、".join(summary.rejected) or "无")
    table.add_row("错误 / 警告", f"{summary.errors} / {summary.warnings}（其中与报告数值不一致 {summary.mismatches} 项）")
    table.add_row("数据仓库", summary.warehouse)
    folders = sorted({str(Path(p).parent) for p in summary.reports})
    table.add_row("报告", "\n".join(folders) or "无")
    table.add_row("查看问题", "select * from audit.validation_issues where run_id = "
                  f"'{summary.run_id}'")
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
