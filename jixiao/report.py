"""The report's tables (表2-1, 表2-2, 表2-3), the department overview and its findings.

Every value is turned into text by jixiao.display before it reaches great-tables,
so the tables show exactly the half-up figures the counts and scores were built on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from great_tables import GT, loc, style

from jixiao.display import MISSING, fmt_number, fmt_percent, fmt_score, fmt_wan, round_half_up

UNNAMED = "（未命名）"
LOW_RATE = Decimal("0.9")

# Prepended to great-tables' own stack so CJK glyphs come from one font on every platform.
_CJK_FONTS = ["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC"]
_FLAG_FILL = style.fill(color="#fdecea")
_ALERT = style.text(color="#b3261e", weight="bold")
_CAUTION = style.text(color="#8a5a00", weight="bold")
_BOLD = style.text(weight="bold")
# A hidden top border makes a blanked repeat look like the report's merged cell.
_MERGED = style.borders(sides="top", style="hidden")

# Listed in this order: what needs attention first.
_STATUS = {"mismatch": "不一致", "not_reconciled": "未核对", "match": "一致"}
_SEVERITY = {"error": "错误", "warning": "警告"}


# --- helpers -----------------------------------------------------------------


def _only_row(frame: pl.DataFrame, name: str) -> dict[str, Any]:
    if frame.height != 1:
        raise ValueError(f"{name}: expected exactly one row, got {frame.height}")
    return frame.row(0, named=True)


def _table_id(table: str, frame: pl.DataFrame, name: str) -> str:
    keys = frame.select("dept_code", "year").unique()
    if keys.height != 1:
        raise ValueError(f"{name}: expected one department and year, got {keys.height}")
    dept_code, year = keys.row(0)
    return f"{table}-{dept_code}-{year}"


def _name(text: str | None) -> str:
    return text if text and text.strip() else UNNAMED


def _is_low(rate: Any) -> bool:
    # Compare the rate as printed, so a row showing 90.00% is never flagged.
    shown = round_half_up(rate, 4)
    return shown is not None and shown < LOW_RATE


def _frame(lines: list[dict[str, str]], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(lines, schema={c: pl.String for c in columns})


def _where(sheet: str | None, cell: str | None, file: str | None = None) -> str:
    place = f"{sheet}!{cell}" if sheet and cell else (sheet or cell or "")
    return " / ".join(p for p in (file, place) if p)


def _finish(gt: GT, notes: Iterable[str], source: str) -> GT:
    gt = gt.opt_table_font(font=_CJK_FONTS)
    for note in [*notes, source]:
        gt = gt.tab_source_note(note)
    return gt


# --- 表2-1 -------------------------------------------------------------------


def build_table_2_1(scores: pl.DataFrame, summary: pl.DataFrame, source: str) -> GT:
    head = _only_row(summary, "summary")
    first = pl.int_range(pl.len()) == 0
    rows = (
        scores.sort("item_no")
        .with_columns(new_level1=first | pl.col("level1").ne_missing(pl.col("level1").shift(1)))
        .with_columns(
            new_level2=pl.col("new_level1") | pl.col("level2").ne_missing(pl.col("level2").shift(1))
        )
    )
    columns = ["level1", "level1_weight", "level2", "level2_weight", "item", "weight", "score"]
    lines = [
        {
            "level1": (r["level1"] or "") if r["new_level1"] else "",
            "level1_weight": fmt_number(r["level1_weight"]) if r["new_level1"] else "",
            "level2": (r["level2"] or "") if r["new_level2"] else "",
            "level2_weight": fmt_number(r["level2_weight"]) if r["new_level2"] else "",
            "item": _name(r["item"]),
            "weight": fmt_number(r["weight"]),
            "score": fmt_score(r["score"]) + ("*" if r["method"] == "computed" else ""),
        }
        for r in rows.iter_rows(named=True)
    ]
    # The report's 总分 row carries the sum of the 一级指标 weights, under their column.
    full_marks = rows.filter("new_level1")["level1_weight"].sum()
    lines.append(
        dict.fromkeys(columns, "")
        | {"level1": "总分", "level1_weight": fmt_number(full_marks), "score": fmt_score(head["total_score"])}
    )
    same_level1 = [i for i, new in enumerate(rows["new_level1"]) if not new]
    same_level2 = [i for i, new in enumerate(rows["new_level2"]) if not new]

    notes = []
    if (rows["method"] == "computed").any():
        notes.append("* 由系统按规则计算，其余为手工录入")
    if head.get("ruleset"):
        notes.append(f"评分规则：{head['ruleset']}")

    return (
        GT(_frame(lines, columns), id=_table_id("t2-1", summary, "summary"))
        # structure
        .tab_header(title="表2-1 部门整体支出绩效自评得分表")
        .cols_label(
            level1="一级指标", level1_weight="分值", level2="二级指标", level2_weight="分值",
            item="三级指标", weight="分值", score="自评分",
        )
        # formatting
        .cols_align("right", columns=["level1_weight", "level2_weight", "weight", "score"])
        # style
        .tab_style(_MERGED, loc.body(columns=["level1", "level1_weight"], rows=same_level1))
        .tab_style(_MERGED, loc.body(columns=["level2", "level2_weight"], rows=same_level2))
        .tab_style(_BOLD, loc.body(rows=[len(lines) - 1]))
        .pipe(_finish, notes, source)
    )


# --- 表2-2 -------------------------------------------------------------------


def _stated(text: str | None, value: Any, unit: str | None) -> str:
    if text and text.strip():
        return text
    return MISSING if value is None else fmt_number(value) + (unit or "")


def _completion(row: dict[str, Any]) -> str:
    match row["bucket"]:
        case "qualitative":
            return "定性：达成" if row["is_met"] else "定性：待复核"
        case "not_applicable":
            return "不适用"
        case _:
            return fmt_percent(row["completion_rate"])


def build_table_2_2(indicators: pl.DataFrame, source: str) -> GT:
    table_id = _table_id("t2-2", indicators, "indicators")
    rows = list(indicators.sort("indicator_no").iter_rows(named=True))
    lines = [
        {
            "group": "／".join(x for x in (r["level1"], r["level2"]) if x) or UNNAMED,
            "indicator": _name(r["indicator"]),
            "target": _stated(r["target_text"], r["target_value"], r["unit"]),
            "actual": _stated(r["actual_text"], r["actual_value"], r["unit"]),
            "completion": _completion(r),
        }
        for r in rows
    ]
    # The bucket, not the rate, decides: it was cut on the printed rate upstream.
    low = [i for i, r in enumerate(rows) if r["bucket"] == "<90%"]

    return (
        GT(_frame(lines, ["group", "indicator", "target", "actual", "completion"]),
           groupname_col="group", id=table_id)
        # structure
        .tab_header(title=f"表2-2 {rows[0]['year']}年度部门工作任务绩效目标完成情况表")
        .cols_label(indicator="三级指标", target="指标值", actual="实际完成值", completion="完成率")
        # formatting
        .cols_align("right", columns="completion")
        # style
        .tab_style(_FLAG_FILL, loc.body(rows=low))
        .tab_style(_ALERT, loc.body(columns="completion", rows=low))
        .pipe(_finish, ["标红：完成率低于90%"] if low else [], source)
    )


# --- 表2-3 -------------------------------------------------------------------


def build_table_2_3(
    projects: pl.DataFrame, tasks: pl.DataFrame, summary: pl.DataFrame, source: str
) -> GT:
    head = _only_row(summary, "summary")
    by_task = {r["task_no"]: r for r in tasks.iter_rows(named=True)}
    lines: list[dict[str, str]] = []
    rates: list[Any] = []
    totals: list[int] = []

    def add(task: str, project: str, budget: Any, spent: Any, rate: Any, *, total: bool = False) -> None:
        if total:
            totals.append(len(lines))
        lines.append({"task": task, "project": project, "budget": fmt_wan(budget),
                      "spent": fmt_wan(spent), "rate": fmt_percent(rate)})
        rates.append(rate)

    for task_no in sorted(set(projects["task_no"].to_list()) | by_task.keys()):
        members = projects.filter(pl.col("task_no") == task_no).sort("project_no")
        task = by_task.get(task_no)
        label = _name(task["task"] if task is not None else members["task"][0])
        for p in members.iter_rows(named=True):
            add(label, _name(p["project"]), p["budget_yuan"], p["spent_yuan"], p["spend_rate"])
        # A one-project task's subtotal would only repeat its row.
        if task is not None and members.height > 1:
            add(label, "小计", task["budget_yuan"], task["spent_yuan"], task["spend_rate"], total=True)
    add("合计", "", head["project_budget_yuan"], head["project_spent_yuan"], head["project_spend_rate"],
        total=True)
    low = [i for i, rate in enumerate(rates) if _is_low(rate)]

    return (
        GT(_frame(lines, ["task", "project", "budget", "spent", "rate"]),
           groupname_col="task", id=_table_id("t2-3", summary, "summary"))
        # structure
        .tab_header(title=f"表2-3 {head['year']}年度各重点任务项目支出完成情况（单位：万元）")
        .tab_stubhead("重点任务")
        .tab_options(row_group_as_column=True)
        .cols_label(project="项目", budget="预算金额", spent="支出金额", rate="预算完成率")
        # formatting
        .cols_align("right", columns=["budget", "spent", "rate"])
        # style
        .tab_style(_BOLD, loc.body(rows=totals))
        .tab_style(_FLAG_FILL, loc.body(rows=low))
        .tab_style(_ALERT, loc.body(columns="rate", rows=low))
        .pipe(_finish, ["标红：预算完成率低于90%"] if low else [], source)
    )


# --- overview and findings ---------------------------------------------------


def _count(frame: pl.DataFrame, column: str, value: str) -> int:
    return frame.filter(pl.col(column) == value).height


def build_summary(
    summary: pl.DataFrame, reconciliation: pl.DataFrame, findings: pl.DataFrame, source: str
) -> GT:
    s = _only_row(summary, "summary")

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
        if (label == "预算执行率" and _is_low(s["execution_rate"]))
        or (label == "预算完成率" and _is_low(s["project_spend_rate"]))
        or (label == "报告数值核对" and mismatches)
        or (label == "数据校验" and errors)
    ]
    table = pl.DataFrame(lines, schema={"group": pl.String, "item": pl.String, "value": pl.String},
                         orient="row")

    return (
        GT(table, groupname_col="group", id=_table_id("summary", summary, "summary"))
        # structure
        .tab_header(title=f"{s['dept_name']}{s['year']}年度部门整体支出绩效自评概览")
        .cols_label(item="项目", value="数值")
        # formatting
        .cols_align("right", columns="value")
        # style
        .tab_style(_FLAG_FILL, loc.body(rows=flagged))
        .tab_style(_ALERT, loc.body(columns="value", rows=flagged))
        .pipe(_finish, [f"评分规则：{s['ruleset']}"] if s.get("ruleset") else [], source)
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
    for r in checked:
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
    for r in issues:
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
        .pipe(_finish, ["数据校验一节中，“报告数值”为工作簿中读到的原值"] if issues else [], source)
    )


# --- writing -----------------------------------------------------------------


def _page(fragments: list[str]) -> bytes:
    body = "\n".join(fragments)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>部门整体支出绩效自评</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode("utf-8")


def write_department_report(
    out_dir: Path,
    *,
    indicators: pl.DataFrame,
    projects: pl.DataFrame,
    tasks: pl.DataFrame,
    scores: pl.DataFrame,
    summary: pl.DataFrame,
    reconciliation: pl.DataFrame,
    findings: pl.DataFrame,
    source: str,
) -> list[Path]:
    s = _only_row(summary, "summary")
    pages = {
        "table_2_1.html": [build_table_2_1(scores, summary, source)],
        "table_2_2.html": [build_table_2_2(indicators, source)],
        "table_2_3.html": [build_table_2_3(projects, tasks, summary, source)],
        "summary.html": [
            build_summary(summary, reconciliation, findings, source),
            build_findings(reconciliation, findings, source, dept_code=s["dept_code"], year=s["year"]),
        ],
    }
    html = {name: [gt.as_raw_html() for gt in tables] for name, tables in pages.items()}
    html["index.html"] = [fragment for fragments in html.values() for fragment in fragments]

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fragments in html.items():
        path = out_dir / name
        # Bytes, not text: no platform newline translation, so runs compare byte for byte.
        path.write_bytes(_page(fragments))
        written.append(path)
    return written
