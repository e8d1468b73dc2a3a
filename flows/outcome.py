"""What a run shows in the Prefect UI: its artifacts and its final state.

A year whose departments all loaded ends Completed. One where some workbooks
were rejected ends in a Completed-type state named "Partial": the pipeline
did its job (good departments loaded, bad ones kept out with their reasons),
so it must not trigger flow retries or look like a crash, yet it is named
differently in the run list and emits its own event
(`prefect.flow-run.Partial`) for an automation to notify the clerks' contact.
A run that broke (an exception) ends Failed as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from prefect.states import Completed, Failed, State

from jixiao.load.warehouse import connect, has_tables
from jixiao.pipeline import RunSummary
from jixiao.publish.display import fmt_percent, fmt_score
from jixiao.publish.neutral import markdown_text
from jixiao.settings import Settings, sql_file

PARTIAL = "Partial"
FINDINGS_SHOWN = 50




def department_rows(settings: Settings, run_id: str) -> list[dict]:
    """One row per workbook of the run: its score, grade and execution rate as the report shows them."""
    with connect(settings.warehouse) as con:
        loaded_ever = has_tables(con, "mart.department_summary")
        query = sql_file("reports/run_departments.sql" if loaded_ever else "reports/run_departments_none_loaded.sql")
        rows = con.sql(query, params={"run": run_id, "year": settings.year}).pl().to_dicts()
    return [
        {
            # A table artifact shows its cells as text; only the markdown artifact needs escaping.
            "部门编码": r["dept_code"] or "—",
            "部门名称": r["dept_name"] or "—",
            "工作簿": r["file"],
            "状态": "已载入" if r["is_loaded"] else "被拒收",
            "得分": fmt_score(r["total_score"]),
            "等级": r["grade"] or "—",
            "执行率": fmt_percent(r["execution_rate"]),
            "错误": r["errors"],
            "警告": r["warnings"],
        }
        for r in rows
    ]


def finding_rows(settings: Settings, run_id: str, limit: int = FINDINGS_SHOWN) -> list[dict]:
    with connect(settings.warehouse) as con:
        return con.sql(sql_file("reports/run_findings.sql"), params={"run": run_id, "limit": limit}).pl().to_dicts()


def run_markdown(summary: RunSummary, findings: Sequence[dict], validation: Sequence[Path] = ()) -> str:
    """The run's reports and validation report, linked, and its validation findings, errors first."""
    lines = [f"# jixiao {summary.year} · 运行 {summary.run_id}", "", outcome_message(summary), "", "## 报告", ""]
    folders: dict[Path, list[Path]] = {}
    for report in map(Path, summary.reports):
        folders.setdefault(report.parent, []).append(report)
    if not folders:
        lines.append("没有生成报告（没有部门载入）。")
    for folder, files in sorted(folders.items()):
        links = " · ".join(_link(f) for f in sorted(files))
        lines.append(f"- `{folder}`：{links}")
    lines += ["", "## 校验问题", ""]
    if validation:
        lines += ["校验报告：" + " · ".join(_link(f) for f in map(Path, validation)), ""]
    shown = f"（列出前 {len(findings)} 条）" if len(findings) >= FINDINGS_SHOWN else ""
    lines.append(f"错误 {summary.errors} 条，警告 {summary.warnings} 条，其中与报告数值不一致 {summary.mismatches} 条{shown}。")
    if findings:
        lines += ["", "| 级别 | 位置 | 规则 | 说明 | 填写值 |", "|---|---|---|---|---|"]
        for f in findings:
            where = f["file"] + (f" › {f['sheet']}" if f["sheet"] else "") + (f"!{f['cell']}" if f["cell"] else "")
            severity = "错误" if f["severity"] == "error" else "警告"
            lines.append(f"| {severity} | {_cell(where)} | `{f['rule']}` | {_cell(f['message'])} | {_cell(f['value'] or '')} |")
    lines += ["", "全部问题：", "", "```sql",
              f"select * from audit.validation_issues where run_id = '{summary.run_id}';", "```",
              "", f"数据仓库：`{summary.warehouse}`"]
    return "\n".join(lines)


def _link(path: Path) -> str:
    return f"[{path.name}]({path.resolve().as_uri()})"


def _cell(text: str) -> str:
    return markdown_text(text)


def _some(names: tuple[str, ...], shown: int = 10) -> str:
    """A district has hundreds of departments: a state message names the first few."""
    listed = "、".join(names[:shown])
    return listed + (f" 等 {len(names)} 个" if len(names) > shown else "")


def outcome_message(summary: RunSummary) -> str:
    if summary.skipped:
        return f"{summary.year} 年度的工作簿与代码自上次运行以来均未变化，未重新处理。"
    loaded = f"已载入 {len(summary.loaded)} 个部门（{_some(summary.loaded) or '无'}）"
    if summary.rejected:
        loaded += f"；被拒收 {len(summary.rejected)} 个工作簿：{_some(summary.rejected)}，请按校验问题修正后重新运行"
    if summary.forms_loaded or summary.forms_rejected:
        loaded += f"；项目支出绩效自评表载入 {summary.forms_loaded} 张"
    if summary.forms_rejected:
        loaded += f"，被拒收 {len(summary.forms_rejected)} 张：{_some(summary.forms_rejected)}，请按校验问题修正后重新运行"
    if summary.unchanged_rejected:
        loaded += (f"；另有 {len(summary.unchanged_rejected)} 个被拒收的工作簿未修改、未重新读取："
                   f"{_some(summary.unchanged_rejected)}，其校验问题见本年度校验报告")
    return f"{summary.year} 年度：{loaded}。错误 {summary.errors} 条，警告 {summary.warnings} 条。"


def run_state(summary: RunSummary) -> State:
    """The year's final state: Completed, or Partial (Completed type) when workbooks or forms were rejected."""
    if summary.exit_code:
        return Completed(name=PARTIAL, message=outcome_message(summary), data=summary)
    return Completed(message=outcome_message(summary), data=summary)


def nightly_rows(due: Sequence, states: Sequence[State]) -> list[dict]:
    """One row per year the nightly run processed."""
    rows = []
    for item, state in zip(due, states):
        summary = state.result(raise_on_failure=False) if state.is_completed() else None
        rows.append({
            "年度": item.year,
            "原因": item.reason,
            "结果": state.name,
            "已载入": len(summary.loaded) if isinstance(summary, RunSummary) else 0,
            "被拒收": len(summary.rejected) + len(summary.unchanged_rejected) if isinstance(summary, RunSummary) else 0,
            "说明": state.message or "",
        })
    return rows


def nightly_state(due: Sequence, states: Sequence[State]) -> State:
    """Failed if a year's run failed, Partial if one rejected workbooks, else Completed; the message tells each year."""
    if not due:
        return Completed(message="没有需要处理的年度：各年度工作簿自上次成功运行以来均未变化。", data=[])
    summaries = [s.result(raise_on_failure=False) for s in states if s.is_completed()]
    told = " ".join(s.message if s.is_completed() else f"{item.year} 年度运行失败：{s.message}"
                    for item, s in zip(due, states))
    if any(not s.is_completed() for s in states):
        return Failed(message=told, data=summaries)
    if any(s.name == PARTIAL for s in states):
        return Completed(name=PARTIAL, message=told, data=summaries)
    return Completed(message=told, data=summaries)
