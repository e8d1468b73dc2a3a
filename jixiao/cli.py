"""The `jixiao` command."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

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
    rules: Annotated[str | None, typer.Option(help="Score rule set for every department, or for every project form (default: the workbook's 评分规则, else panyu_share; national_project for forms).")] = None,
    rules_file: Annotated[Path | None, typer.Option("--rules-file", help="A TOML file of a bureau's own rule sets, beside the shipped ones (docs/rule-sets.md).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run even when the workbooks and the code are unchanged since the last finished run.")] = False,
    formats: Annotated[str, typer.Option("--formats", help="Outputs to draw, comma-separated: html,png,xlsx,docx; all; or none (the data path alone).")] = "all",
    runner: Annotated[str, typer.Option("--runner", help="local (this machine's cores) or dask (reading and drawing on a Dask cluster, via prefect-dask).")] = "local",
    dask_address: Annotated[str | None, typer.Option("--dask-address", help="Scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786; default: a local cluster.")] = None,
) -> None:
    """Run the Prefect flow for one year: ingest, validate, load, transform, emit."""
    from jixiao.publish.outputs import parse_formats, picture_warning

    if runner not in ("local", "dask"):
        console.print(f"[red]--runner 无效：{runner}（可选 local、dask）[/red]")
        raise typer.Exit(2)
    try:
        chosen = parse_formats(formats)
    except ValueError as exc:
        console.print(f"[red]--formats 无效：{exc}[/red]")
        raise typer.Exit(2) from None
    if rules is not None or rules_file is not None:
        from jixiao.check.rulesets import RuleFileError, load_rulesets

        try:
            known = load_rulesets(extra=rules_file)
        except RuleFileError as exc:
            console.print(f"[red]--rules-file 无效：{exc}[/red]")
            raise typer.Exit(2) from None
        if rules is not None and rules not in known:
            # A usage error: no run is recorded, no department's data or status is touched.
            console.print(f"[red]--rules 无效：评分规则“{rules}”不存在（可选：{'、'.join(known.descriptions)}）[/red]")
            raise typer.Exit(2)
    if runner == "dask":
        try:
            import prefect_dask  # noqa: F401
        except ImportError:
            console.print("[red]--runner dask 需要安装 Dask 扩展：pip install -e '.[dask]'（或 pip install prefect-dask）[/red]")
            raise typer.Exit(2) from None
    year_dir = raw / str(year)
    if not year_dir.is_dir():
        console.print(f"[red]没有找到 {year_dir}/：请把 {year} 年的工作簿放在该文件夹中（--raw 指定上级目录）[/red]")
        raise typer.Exit(2)
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    summary = _run_flow(year, list(dept) or None, raw, warehouse, out, rules, force, chosen, runner, dask_address,
                        rules_file)
    if summary.skipped:
        console.print(f"{year} 年的工作簿和程序自上次运行以来均未变化，未重新处理（run {summary.run_id}；--force 可强制重跑）")
        raise typer.Exit(0)
    _print_summary(summary)
    if warning := picture_warning(chosen, summary.loaded, summary.reports):
        console.print(f"[yellow]警告：{warning}[/yellow]")
    raise typer.Exit(summary.exit_code)


def _run_flow(year, departments, raw, warehouse, out, rules, force, chosen, runner, dask_address, rules_file=None):
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.year import run_year
    from jixiao.load.warehouse import WarehouseLocked
    from jixiao.pipeline import UnknownDepartments

    quiet = _TracebacksToFile()
    try:
        # A sync flow joins its heartbeat thread for ~1 s at the end; nothing here watches heartbeats.
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            flow_fn = run_year
            if runner == "dask":
                from flows.year import with_dask

                flow_fn = with_dask(dask_address)
            quiet.install()
            return flow_fn(year, raw, warehouse, out, departments, rules, force, formats=list(chosen), runner=runner,
                           rules_file=rules_file)
    except WarehouseLocked as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from None
    except UnknownDepartments as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except Exception as exc:  # the program or its environment failed, not a department's input
        _crashed(exc, warehouse, quiet.records)
    finally:
        quiet.remove()


def _crashed(exc: BaseException, warehouse: Path, logged: list[str], *, serving: bool = False) -> NoReturn:
    """Exit 4: the one-paragraph message on the console, the traceback in a log file it names."""
    log = _write_crash_log(Path(warehouse).parent, exc, logged)
    console.print(f"[red]{_crash_message(exc, serving=serving)}\n技术细节（供数据管理员查看）已写入 {log}[/red]")
    raise typer.Exit(4) from None


class _TracebacksToFile(logging.Filter):
    """Prefect logs a failed task's or flow's traceback to the console; a clerk reads the one-paragraph
    message instead, and the tracebacks go to the crash log."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[str] = []
        self._handlers: list[logging.Handler] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            self.records.append(logging.Formatter().format(record))
            record.exc_info, record.exc_text = None, None
        return True

    def install(self) -> None:
        for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
            for handler in logging.getLogger(name).handlers:
                handler.addFilter(self)
                self._handlers.append(handler)

    def remove(self) -> None:
        for handler in self._handlers:
            handler.removeFilter(self)


def _crash_message(exc: BaseException, *, serving: bool = False) -> str:
    """What happened, in a clerk's words, and what to do (`serving`: for `jixiao serve`, which needs a server)."""
    import errno

    from jixiao.load.warehouse import NewerWarehouse

    chain = [exc]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain)
    if any(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in chain) or "No space left" in text:
        return "运行失败：磁盘空间已满，数据仓库或报告无法写入。请清理磁盘空间后重新运行；已载入的数据不受影响。"
    if any(isinstance(e, PermissionError) for e in chain) or "Read-only file system" in text or "Permission denied" in text:
        return "运行失败：没有写入权限（文件夹只读或被占用），数据仓库或报告无法写入。请检查文件夹权限后重新运行。"
    if "ConnectError" in text or "Connection refused" in text or "PREFECT_API_URL" in text:
        if serving:
            return ("定时运行失败：无法连接 Prefect 服务器。请确认服务器在运行（`prefect server start`），"
                    "且 PREFECT_API_URL 指向它（如 http://127.0.0.1:4200/api），然后重新运行 jixiao serve。")
        return ("运行失败：无法连接 Prefect 服务器。请确认 PREFECT_API_URL 指向正在运行的服务器"
                "（或取消该设置，使用临时服务器）后重新运行。")
    if any(isinstance(e, NewerWarehouse) for e in chain):
        return "运行失败：数据仓库由更新版本的 jixiao 写入，本版本不能写入。请升级 jixiao 后重新运行。"
    if "OutOfMemoryException" in text or any(isinstance(e, MemoryError) for e in chain):
        from jixiao.load.warehouse import MEMORY_LIMIT

        return (f"运行失败：内存不足（数据仓库计算时超出为它设定的内存上限 {MEMORY_LIMIT}，或本机内存不足）。"
                "请将环境变量 JIXIAO_DUCKDB_MEMORY 设为更大的值（如 512MB）后重新运行；已载入的数据不受影响。")
    if "duckdb" in text.lower() or "IOException" in text or "Corrupt" in text:
        return ("运行失败：数据仓库文件无法打开或已损坏。请从备份恢复数据仓库文件，或换一个 --warehouse 路径"
                "重新运行全部年度。")
    return f"运行失败：程序出错（{type(exc).__name__}：{str(exc)[:200]}）。请将下面的日志文件转交数据管理员。"


def _write_crash_log(folder: Path, exc: BaseException, logged: list[str]) -> Path:
    import tempfile
    import traceback
    from datetime import datetime

    body = "".join(traceback.format_exception(exc)) + "\n".join(["", *logged])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for where in (folder, Path(tempfile.gettempdir())):  # the warehouse's folder may be the thing that is full
        try:
            where.mkdir(parents=True, exist_ok=True)
            path = where / f"jixiao-error-{stamp}.log"
            path.write_text(body, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(日志无法写入)")


@app.command()
def serve(
    raw: Annotated[Path, typer.Option(help="Folder holding <year>/ workbooks.")] = Path("raw"),
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file.")] = Path("warehouse/jixiao.duckdb"),
    out: Annotated[Path, typer.Option(help="Where reports are written: OUT/<year>/<部门编码>/.")] = Path("warehouse/reports"),
    cron: Annotated[str, typer.Option(help="When the nightly run starts: a cron expression in Asia/Shanghai time.")] = "0 2 * * *",
) -> None:
    """Serve the deployment jixiao-nightly/nightly on a Prefect server: each night the years whose workbooks changed, any year on demand."""
    if not raw.is_dir():
        console.print(f"[red]没有找到 {raw}/：请用 --raw 指定存放各年度工作簿的文件夹[/red]")
        raise typer.Exit(2)
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    from prefect.settings import get_current_settings

    # The temporary server of `jixiao run` runs no scheduler and dies with the process.
    if not get_current_settings().api.url:
        console.print("[red]定时运行需要常驻的 Prefect 服务器：请先运行 `prefect server start`，再设置 "
                      "PREFECT_API_URL=http://127.0.0.1:4200/api（或指向已有的服务器）后重试[/red]")
        raise typer.Exit(2)
    from prefect import serve as serve_deployments

    from flows.nightly import nightly_deployment

    try:
        deployment = nightly_deployment(raw, warehouse, out, cron)
    except ValueError as exc:
        console.print(f"[red]--cron 无效：{exc}[/red]")
        raise typer.Exit(2) from None
    # One flow run at a time from this process; runs of other processes queue on the warehouse's limit.
    quiet = _TracebacksToFile()
    quiet.install()
    try:
        serve_deployments(deployment, limit=1)
    except Exception as exc:  # the server went away or the environment failed: not a usage error
        _crashed(exc, warehouse, quiet.records, serving=True)
    finally:
        quiet.remove()


@app.command()
def synth(
    years: Annotated[str, typer.Option(help="Year or years: 2022, 2021,2022 or 2020-2022.")],
    out: Annotated[Path, typer.Option(help="Where to write OUT/<year>/<部门编码>.xlsx and OUT/manifest.json.")],
    departments: Annotated[int, typer.Option(help="How many departments (部门编码 D0001, D0002, …).", min=0)] = 0,
    forms: Annotated[int, typer.Option(help="How many project forms (项目支出绩效自评表) a year, one to four per "
                                            "workbook, listed in OUT/project_forms_<year>.json.", min=0)] = 0,
    seed: Annotated[int, typer.Option(help="Same seed, same workbooks, byte for byte.")] = 0,
    broken_share: Annotated[float, typer.Option(help="Share of workbooks (of forms) broken on purpose, listed in "
                                                     "the manifest.", min=0.0, max=1.0)] = 0.02,
    slip_share: Annotated[float, typer.Option(help="Share of forms printing a figure against their rules.",
                                              min=0.0, max=1.0)] = 0.3,
) -> None:
    """Write synthetic departments' workbooks and project forms in the contract's layouts, for benchmarks and tests."""
    from jixiao_synth.project_forms import manifest_path, synth_project_forms
    from jixiao_synth.synth import synthesize

    try:
        chosen = _year_list(years)
    except ValueError:
        console.print(f"[red]--years 无效：{years}（示例：2022、2021,2022 或 2020-2022）[/red]")
        raise typer.Exit(2) from None
    if not departments and not forms:
        console.print("[red]请用 --departments 或 --forms 指定要生成的部门数或项目自评表数[/red]")
        raise typer.Exit(2)
    if departments:
        manifest = synthesize(out, departments, chosen, seed=seed, broken_share=broken_share)
        console.print(f"已生成 {len(manifest.files)} 个工作簿（其中故意出错 {len(manifest.broken)} 个），"
                      f"用时 {manifest.seconds:.1f} 秒：{out}/<年度>/，清单 {out}/manifest.json")
    for year in chosen if forms else ():
        clock = time.perf_counter()
        paths = synth_project_forms(out, year, forms, seed=seed, slip_share=slip_share, broken_share=broken_share,
                                    processes=os.cpu_count() or 1)
        console.print(f"已生成 {year} 年项目支出绩效自评表 {forms} 张（{len(paths)} 个工作簿），"
                      f"用时 {time.perf_counter() - clock:.1f} 秒：{out}/{year}/，清单 {manifest_path(out, year)}")


def _year_list(text: str) -> list[int]:
    years: list[int] = []
    for part in text.replace("，", ",").split(","):
        first, _, last = part.strip().partition("-")
        years.extend(range(int(first), int(last or first) + 1))
    if not years or any(not 2000 <= y <= 2100 for y in years):
        raise ValueError(text)
    return sorted(set(years))


def _some(names: tuple[str, ...], shown: int = 20) -> str:
    if not names:
        return "无"
    return "、".join(names[:shown]) + (f" 等共 {len(names)} 个" if len(names) > shown else f"（{len(names)} 个）")


def _print_summary(summary) -> None:
    from rich.table import Table

    table = Table(title=f"jixiao {summary.year} · run {summary.run_id}", show_header=False)
    table.add_row("已载入部门", _some(summary.loaded))
    table.add_row("被拒收部门", _some(summary.rejected, shown=50))
    if summary.unchanged_rejected:
        table.add_row("仍被拒收", f"{_some(summary.unchanged_rejected, shown=50)}（未修改，未重新读取；问题见校验报告）")
    if summary.forms_loaded or summary.forms_rejected:
        table.add_row("项目自评表", f"已载入 {summary.forms_loaded} 张；被拒收 {_some(summary.forms_rejected, shown=50)}")
    table.add_row("错误 / 警告", f"{summary.errors} / {summary.warnings}（其中与报告数值不一致 {summary.mismatches} 项）")
    table.add_row("数据仓库", summary.warehouse)
    folders = sorted({str(Path(p).parent) for p in summary.reports})
    table.add_row("报告", "\n".join(folders[:10] + ([f"…共 {len(folders)} 个文件夹"] if len(folders) > 10 else []))
                  or "无")
    table.add_row("查看问题", "select * from audit.validation_issues where run_id = "
                  f"'{summary.run_id}'")
    console.print(table)


def main() -> None:
    # Tearing the interpreter down after a run takes about 1 s (the module graph of
    # prefect, polars, pandera...) and does nothing we need: registered first, this
    # runs after every other exit handler (Prefect drains its logs and events and
    # stops its temporary server before it), then leaves at once.
    status = {"code": None}
    atexit.register(_leave_now, status)
    try:
        app()
    except SystemExit as exc:
        status["code"] = exc.code if isinstance(exc.code, int) else None
        raise


def _leave_now(status: dict) -> None:
    if status["code"] is None:  # an uncaught exception, or a message to print: Python's own way out
        return
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(status["code"])


if __name__ == "__main__":
    main()
