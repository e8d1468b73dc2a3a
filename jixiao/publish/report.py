"""The report's tables (表1-1 to 表2-3) drawn with great-tables, the department overview and its findings.

Every value is turned into text by jixiao.publish.display before it reaches great-tables,
so the tables show exactly the half-up figures the counts and scores were built on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import polars as pl
from great_tables import GT, loc, style

from jixiao.publish.display import MISSING, fmt_number, fmt_percent, fmt_score, fmt_wan
from jixiao.publish.sentences import OUTLINE, report_sentences
from jixiao.publish.tables import (
    ReportTable,
    cell_text,
    is_low,
    only_row,
    shape_table_1_1,
    shape_table_1_2,
    shape_table_2_1,
    shape_table_2_2,
    shape_table_2_3,
    table_id,
)

# Prepended to great-tables' own stack so CJK glyphs come from one font on every platform.
_CJK_FONTS = ["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC"]
_FLAG_FILL = style.fill(color="#fdecea")
_ALERT = style.text(color="#b3261e", weight="bold")
_CAUTION = style.text(color="#8a5a00", weight="bold")
_BOLD = style.text(weight="bold")
# A hidden top border makes a blanked repeat look like the report's merged cell.
_MERGED = style.borders(sides="top", style="hidden")

# A page shows this many rows of a table, and of each part of the findings. great-tables matches every
# styled cell against every cell it draws, so a table's drawing time grows with the square of its rows
# (5,000 rows 6 s, 49,000 rows ten minutes), and a page or picture that long is read by no one: the
# Excel and Word files and the warehouse hold every row.
SHOWN_ROWS = 500

# Listed in this order: what needs attention first.
_STATUS = {"mismatch": "不一致", "not_reconciled": "未核对", "match": "一致"}
_SEVERITY = {"error": "错误", "warning": "警告"}


# --- helpers -----------------------------------------------------------------


def _frame(lines: list[dict[str, str]], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(lines, schema=dict.fromkeys(columns, pl.String))


def _where(sheet: str | None, cell: str | None, file: str | None = None) -> str:
    place = f"{sheet}!{cell}" if sheet and cell else (sheet or cell or "")
    return " / ".join(p for p in (file, place) if p)


def finish_table(gt: GT, notes: Iterable[str], source: str) -> GT:
    gt = gt.opt_table_font(font=_CJK_FONTS)
    for note in [*notes, source]:
        gt = gt.tab_source_note(note)
    return gt


# --- the report's tables -----------------------------------------------------


def _first_rows(table: ReportTable) -> ReportTable:
    """The table's first SHOWN_ROWS rows, with a note saying how many there are and where the rest is."""
    if len(table.rows) <= SHOWN_ROWS:
        return table
    kept = range(SHOWN_ROWS)
    return dataclasses.replace(
        table,
        rows=table.rows[:SHOWN_ROWS],
        merged=[(columns, [r for r in rows if r in kept]) for columns, rows in table.merged],
        totals=[r for r in table.totals if r in kept],
        flagged=[r for r in table.flagged if r in kept],
        notes=[_cut_note(len(table.rows), "行"), *table.notes],
    )


def _cut_note(total: int, unit: str) -> str:
    return (f"共{total:,}{unit}，本页仅列出前{SHOWN_ROWS:,}{unit}；"
            "全部内容见本部门的 Excel、Word 文件（--formats xlsx,docx）及数据仓库")


def draw_table(table: ReportTable) -> GT:
    """A shaped table (jixiao.publish.tables) as great-tables draws it, its first SHOWN_ROWS rows."""
    table = _first_rows(table)
    blank = {(r, key) for keys, rows in table.merged for r in rows for key in keys}
    keys = [c.key for c in table.columns]
    lines = [
        {c.key: "" if (i, c.key) in blank else cell_text(row[c.key], c.kind) for c in table.columns}
        for i, row in enumerate(table.rows)
    ]
    gt = GT(_frame(lines, keys), groupname_col=table.group, id=table.id)
    # structure
    gt = gt.tab_header(title=table.title)
    if table.stubhead:
        gt = gt.tab_stubhead(table.stubhead)
    if table.group_as_column:
        gt = gt.tab_options(row_group_as_column=True)
    gt = gt.cols_label(**{c.key: c.label for c in table.columns if c.key != table.group})
    # formatting
    numbers = [c.key for c in table.columns if c.is_number]
    if numbers:
        gt = gt.cols_align("right", columns=numbers)
    # style
    for columns, rows in table.merged:
        gt = gt.tab_style(_MERGED, loc.body(columns=list(columns), rows=rows))
    if table.totals:
        gt = gt.tab_style(_BOLD, loc.body(rows=table.totals))
    if table.flagged:
        gt = gt.tab_style(_FLAG_FILL, loc.body(rows=table.flagged))
        gt = gt.tab_style(_ALERT, loc.body(columns=table.flag_column, rows=table.flagged))
    return finish_table(gt, table.notes, table.source)


def build_table_1_1(tasks: pl.DataFrame, summary: pl.DataFrame, source: str) -> GT:
    return draw_table(shape_table_1_1(tasks, summary, source))


def build_table_1_2(indicators: pl.DataFrame, summary: pl.DataFrame, source: str) -> GT:
    return draw_table(shape_table_1_2(indicators, summary, source))


def build_table_2_1(scores: pl.DataFrame, summary: pl.DataFrame, source: str) -> GT:
    return draw_table(shape_table_2_1(scores, summary, source))


def build_table_2_2(indicators: pl.DataFrame, source: str) -> GT:
    return draw_table(shape_table_2_2(indicators, source))


def build_table_2_3(
    projects: pl.DataFrame, tasks: pl.DataFrame, summary: pl.DataFrame, source: str
) -> GT:
    return draw_table(shape_table_2_3(projects, tasks, summary, source))


# --- overview and findings ---------------------------------------------------


def _count(frame: pl.DataFrame, column: str, value: str) -> int:
    return frame.filter(pl.col(column) == value).height


def build_summary(
    summary: pl.DataFrame, reconciliation: pl.DataFrame, findings: pl.DataFrame, source: str
) -> GT:
    s = only_row(summary, "summary")

    def n(count: Any, unit: str = "个") -> str:
        return f"{fmt_number(count)}{unit}"

    indicators = [
        ("共设置", s["indicators_total"]),
        ("其中：完成率≥100%", s["indicators_ge_100"]),
        ("完成率在90%-100%之间", s["indicators_90_100"]),
        ("完成率<90%", s["indicators_lt_90"]),
    ]
    # Like the prose, mention qualitative and not-applicable indicators only when there are any.
    indicators += [(label, count) for label, count in (
        ("定性指标", s["indicators_qualitative"]), ("不适用", s["indicators_not_applicable"])
    ) if count]
    mismatches = _count(reconciliation, "status", "mismatch")
    errors = _count(findings, "severity", "error")
    audit = (
        f"共{n(reconciliation.height, '项')}，不一致{n(mismatches, '项')}，"
        f"未核对{n(_count(reconciliation, 'status', 'not_reconciled'), '项')}"
    )
    issues = f"错误{n(errors, '项')}，警告{n(_count(findings, 'severity', 'warning'), '项')}"
    lines = [
        ("预算执行", "全年预算数（万元）", fmt_wan(s["budget_yuan"])),
        ("预算执行", "财政拨款支出（万元）", fmt_wan(s["spent_yuan"])),
        ("预算执行", "预算执行率", fmt_percent(s["execution_rate"])),
        ("重点任务项目支出", "项目预算总额（万元）", fmt_wan(s["project_budget_yuan"])),
        ("重点任务项目支出", "项目支出总额（万元）", fmt_wan(s["project_spent_yuan"])),
        ("重点任务项目支出", "预算完成率", fmt_percent(s["project_spend_rate"])),
        ("自评结果", "自评得分", fmt_score(s["total_score"])),
        ("自评结果", "等级", s["grade"] or MISSING),
        *[("工作任务绩效目标", label, n(count)) for label, count in indicators],
        ("核对与校验", "报告数值核对", audit),
        ("核对与校验", "数据校验", issues),
    ]
    flagged = [
        i for i, (_, label, _) in enumerate(lines)
        if (label == "预算执行率" and is_low(s["execution_rate"]))
        or (label == "预算完成率" and is_low(s["project_spend_rate"]))
        or (label == "报告数值核对" and mismatches)
        or (label == "数据校验" and errors)
    ]
    table = pl.DataFrame(lines, schema={"group": pl.String, "item": pl.String, "value": pl.String},
                         orient="row")

    return (
        GT(table, groupname_col="group", id=table_id("summary", summary, "summary"))
        # structure
        .tab_header(title=f"{s['dept_name']}{s['year']}年度部门整体支出绩效自评概览")
        .cols_label(item="项目", value="数值")
        # formatting
        .cols_align("right", columns="value")
        # style
        .tab_style(_FLAG_FILL, loc.body(rows=flagged))
        .tab_style(_ALERT, loc.body(columns="value", rows=flagged))
        .pipe(finish_table, [f"评分规则：{s['ruleset']}"] if s.get("ruleset") else [], source)
    )


_KIND_FORMAT = {"rate": fmt_percent, "amount": fmt_wan, "score": fmt_score, "count": fmt_number}


def _figure_format(figure: str, kind: str | None = None) -> Callable[[Any], str]:
    # audit.reconciliation says what a figure holds (kind); without it, go by the name
    # (完成年度预算比例, 项目支出总额, 总得分, 完成率≥100%指标数) or the warehouse suffixes.
    if kind in _KIND_FORMAT:
        return _KIND_FORMAT[kind]
    if figure.endswith(("率", "比例", "_rate")):
        return fmt_percent
    if figure.endswith(("额", "预算数", "支出", "_yuan")):
        return fmt_wan
    if figure.endswith(("得分", "_score")):
        return fmt_score
    return fmt_number


def _shown(value: Any, fmt: Callable[[Any], str]) -> str:
    # Figures kept as text (not reconciled) are shown as stated.
    return value if isinstance(value, str) else fmt(value)


def _as_found(value: Any) -> str:
    # A finding quotes the cell as read; rounding it would hide what the clerk typed.
    return "" if value is None else str(value)


def build_findings(
    reconciliation: pl.DataFrame, findings: pl.DataFrame, source: str, *, dept_code: str, year: int
) -> GT:
    lines: list[dict[str, str]] = []
    mismatched: list[int] = []
    errors: list[int] = []
    warnings: list[int] = []

    order = {status: i for i, status in enumerate(_STATUS)}
    checked = sorted(reconciliation.iter_rows(named=True), key=lambda r: order.get(r["status"], len(order)))
    for r in checked[:SHOWN_ROWS]:
        fmt = _figure_format(r["figure"], r.get("kind"))
        if r["status"] == "mismatch":
            mismatched.append(len(lines))
        lines.append({
            "group": "报告数值核对",
            "item": r["figure"] + ("（万元）" if fmt is fmt_wan and "万元" not in r["figure"] else ""),
            "reported": _shown(r["reported_value"], fmt),
            "computed": _shown(r["computed_value"], fmt),
            "difference": _shown(r["difference"], fmt),
            "status": _STATUS.get(r["status"], r["status"]),
            "where": _where(r["sheet"], r["cell"]),
        })
    if not checked:
        lines.append({"group": "报告数值核对", "item": "未提供报告数值"})

    issues = sorted(findings.iter_rows(named=True), key=lambda r: r["severity"] != "error")
    for r in issues[:SHOWN_ROWS]:
        (errors if r["severity"] == "error" else warnings).append(len(lines))
        lines.append({
            "group": "数据校验",
            "item": f"{r['message']}（{r['rule']}）" if r["rule"] else r["message"],
            "reported": _as_found(r["value"]),
            "status": _SEVERITY.get(r["severity"], r["severity"]),
            "where": _where(r["sheet"], r["cell"], r["file"]),
        })
    if not issues:
        lines.append({"group": "数据校验", "item": "未发现问题"})

    notes = [f"{part}{_cut_note(len(rows), '项')}" for part, rows in (("报告数值核对", checked), ("数据校验", issues))
             if len(rows) > SHOWN_ROWS]
    if issues:
        notes.append("数据校验一节中，“报告数值”为工作簿中读到的原值")
    columns = ["group", "item", "reported", "computed", "difference", "status", "where"]
    table = _frame([dict.fromkeys(columns, "") | line for line in lines], columns)
    return (
        GT(table, groupname_col="group", id=f"findings-{dept_code}-{year}")
        # structure
        .tab_header(title="报告数值核对与数据校验结果")
        .cols_label(item="项目", reported="报告数值", computed="系统计算", difference="差异",
                    status="结论", where="位置")
        # formatting
        .cols_align("right", columns=["reported", "computed", "difference"])
        # style
        .tab_style(_FLAG_FILL, loc.body(rows=mismatched))
        .tab_style(_ALERT, loc.body(columns="status", rows=mismatched + errors))
        .tab_style(_CAUTION, loc.body(columns="status", rows=warnings))
        .pipe(finish_table, notes, source)
    )


# --- the department's page ---------------------------------------------------


@dataclass
class DepartmentReport:
    """One department-year: its tables (shaped and drawn), sentences and overview."""

    dept_code: str
    dept_name: str
    year: int
    source: str
    tables: list[ReportTable]
    sentences: dict[str, str]
    overview: list[GT]  # 概览 and 核对与校验: for the bureau and the clerk, not for pasting
    drawn: dict[str, GT] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.dept_name}{self.year}年度部门整体支出绩效自评"

    @property
    def report_title(self) -> str:
        """The title the filed report carries (2022年度番禺区残疾人联合会部门整体支出绩效自评报告)."""
        return f"{self.year}年度{self.dept_name}部门整体支出绩效自评报告"

    def table(self, key: str) -> ReportTable | None:
        return next((t for t in self.tables if t.key == key), None)


def department_report(
    *,
    indicators: pl.DataFrame,
    projects: pl.DataFrame,
    tasks: pl.DataFrame,
    scores: pl.DataFrame,
    summary: pl.DataFrame,
    reconciliation: pl.DataFrame,
    findings: pl.DataFrame,
    source: str,
    task_outcomes: pl.DataFrame | None = None,
    profile: pl.DataFrame | None = None,
) -> DepartmentReport:
    """Everything drawn for one department-year, from its mart rows (pipeline._REPORT_QUERIES)."""
    s = only_row(summary, "summary")
    outcomes = task_outcomes if task_outcomes is not None else pl.DataFrame()
    tables = []
    # 重点工作任务 is an optional sheet: without tasks there is no 表1-1 to draw.
    if outcomes.height:
        tables.append(shape_table_1_1(outcomes, summary, source))
    if indicators.height:
        tables.append(shape_table_1_2(indicators, summary, source))
    tables.append(shape_table_2_1(scores, summary, source))
    if indicators.height:
        tables.append(shape_table_2_2(indicators, source))
    tables.append(shape_table_2_3(projects, tasks, summary, source))
    profile_row = profile.row(0, named=True) if profile is not None and profile.height else None
    sentences = report_sentences(
        s, profile_row,
        outcomes.to_dicts() if outcomes.height else [],
        indicators.to_dicts(), projects.to_dicts(),
    )
    overview = [
        build_summary(summary, reconciliation, findings, source),
        build_findings(reconciliation, findings, source, dept_code=s["dept_code"], year=s["year"]),
    ]
    return DepartmentReport(
        s["dept_code"], s["dept_name"], s["year"], source, tables, sentences, overview,
        {t.key: draw_table(t) for t in tables},
    )


_PAGE_CSS = """
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif;
       color: #1f1f1f; margin: 0; background: #fafafa; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 22px; text-align: center; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; }
h3 { font-size: 16px; margin: 20px 0 8px; }
p.lead { text-indent: 2em; line-height: 1.8; margin: 6px 0; }
p.meta { text-align: center; color: #666; font-size: 13px; margin: 0 0 16px; }
nav { text-align: center; font-size: 13px; }
.table { margin: 12px 0 20px; overflow-x: auto; }
"""


def html_page(fragments: list[str], title: str = "部门整体支出绩效自评", drawn_from: str | None = None) -> bytes:
    """A page; `drawn_from` (a fingerprint of what it shows) goes in its head, for drawn_from() to read back."""
    body = "\n".join(fragments)
    mark = f'<meta name="{_DRAWN_FROM}" content="{escape(drawn_from)}">\n' if drawn_from else ""
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n{mark}'
        f"<title>{escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    ).encode()


_DRAWN_FROM = "jixiao-drawn-from"


def drawn_from(page: Path) -> str | None:
    """The fingerprint html_page wrote into a page's head; None when there is no such page or mark."""
    try:
        with page.open("rb") as f:
            head = f.read(512).decode("utf-8", "replace")
    except OSError:
        return None
    found = re.search(f'<meta name="{_DRAWN_FROM}" content="([^"]*)">', head)
    return found[1] if found else None


def _document(report: DepartmentReport, html: dict[str, str], overview: list[str]) -> list[str]:
    """The page with every sentence and table, in the report's order (index.html)."""
    parts = [
        f"<h1>{escape(report.title)}</h1>",
        f'<p class="meta">{escape(report.source)}</p>',
        '<nav><a href="../index.html">返回本年度各部门一览</a></nav>',
    ]
    section = None
    for heading, subheading, keys, table_key in OUTLINE:
        lines = [report.sentences[k] for k in keys if k in report.sentences]
        table = html.get(table_key) if table_key else None
        if not lines and table is None:
            continue
        if heading != section:
            parts.append(f"<h2>{escape(heading)}</h2>")
            section = heading
        parts.append(f"<h3>{escape(subheading)}</h3>")
        # Sentences quote workbook text (task and project names): escaped like any cell.
        parts.extend(f'<p class="lead">{escape(line)}</p>' for line in lines)
        if table is not None:
            parts.append(f'<div class="table">{table}</div>')
    parts.append("<h2>附：概览、报告数值核对与数据校验</h2>")
    parts.extend(f'<div class="table">{fragment}</div>' for fragment in overview)
    return parts


def write_html(report: DepartmentReport, out_dir: Path) -> list[Path]:
    """One page per table, summary.html (overview and findings), and index.html holding everything."""
    # great-tables renders a table in ~15-30 ms; each is rendered once and placed on both pages.
    html = {key: gt.as_raw_html() for key, gt in report.drawn.items()}
    overview = [gt.as_raw_html() for gt in report.overview]
    pages = {f"{key}.html": ([fragment], f"{report.title}：{report.table(key).sheet}") for key, fragment in html.items()}
    pages["summary.html"] = (overview, f"{report.title}：概览与核对")
    pages["index.html"] = (_document(report, html, overview), report.title)

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (fragments, title) in pages.items():
        path = out_dir / name
        # Bytes, not text: no platform newline translation, so runs compare byte for byte.
        path.write_bytes(html_page(fragments, title))
        written.append(path)
    return written


def write_department_report(out_dir: Path, **frames: Any) -> list[Path]:
    """The department's HTML pages from its mart rows (see department_report)."""
    return write_html(department_report(**frames), out_dir)
