"""The year's validation report: what each department has to fix, for the people who fix it.

It covers every input of the year as it stands after the run, each with the findings of the run that
last read it (sql/queries/year_inputs.sql): a nightly that reads the three corrected workbooks, or a
--dept run, does not make the others' findings disappear from the page.

The finance bureau sends these findings back to departments, so the report is
grouped by department (rejected ones first), errors before warnings, each
finding with its file, sheet, cell, the value found and the message. The same
rows go to a CSV in UTF-8 with a byte-order mark, which Excel opens as UTF-8
(without the mark it guesses the locale's code page and garbles Chinese).
Both land in `<out>/<year>/validation.html` and `validation.csv`.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from great_tables import GT, loc, style

from jixiao.publish.neutral import spreadsheet_text

_CJK_FONTS = ["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC"]
_ERROR = style.text(color="#b3261e", weight="bold")
_REJECTED = style.fill(color="#fdecea")
_SEVERITY = {"error": "错误", "warning": "警告"}
_CELL = re.compile(r"^([A-Z]+)([0-9]+)$")
# Rows a page lists per table, in reading order (rejected inputs and errors first); the CSV has every row.
# A province's hundred thousand findings make a page no browser opens, and great-tables draws
# about 0.6 ms a row.
SHOWN_ROWS = 2000

# The CSV's columns, in the order a clerk reads a finding.
CSV_COLUMNS = {
    "dept_code": "部门编码", "file": "文件", "outcome": "处理结果", "severity": "级别", "sheet": "工作表",
    "cell": "单元格", "value": "填写值", "message": "问题说明", "rule": "规则",
}


def department_lines(inputs: pl.DataFrame, findings: pl.DataFrame, statuses: pl.DataFrame) -> pl.DataFrame:
    """One line per input of the year: dept_code, file, outcome (Chinese), rejected, errors, warnings, note.

    `inputs` has the columns of sql/queries/year_inputs.sql (src_file, dept_code, ignored_sheets, forms);
    `findings` those of audit.validation_issues; `statuses` is audit.department_status for the year: it
    says whether a rejected department's last good data is still in the marts (and so marked stale)."""
    counts = {(r["file"], r["severity"]): r["n"] for r in findings.group_by("file", "severity").len("n").iter_rows(named=True)}
    rejected_forms = {r["file"]: r["n"] for r in findings.filter(pl.col("severity") == "error", pl.col("project_key").is_not_null())
                      .group_by("file").agg(pl.col("project_key").n_unique().alias("n")).iter_rows(named=True)}
    by_code = {r["dept_code"]: r for r in statuses.iter_rows(named=True)}
    by_file = {r["last_file"]: r for r in statuses.iter_rows(named=True)}
    lines = []
    for item in inputs.iter_rows(named=True):
        file, code = item["src_file"], item["dept_code"]
        errors, warnings = counts.get((file, "error"), 0), counts.get((file, "warning"), 0)
        rejected = errors > 0
        status = None if item["forms"] else by_code.get(code) if code else by_file.get(file)
        stale = bool(status and status["is_stale"] and rejected)
        if not rejected:
            outcome = "已载入"
        elif item["forms"] and rejected_forms.get(file):
            outcome = f"被拒收：其中 {rejected_forms[file]} 张项目自评表未载入"
        elif stale:
            outcome = "被拒收：沿用上次载入的数据（已标记为过期）"
        else:
            outcome = "被拒收：数据仓库中无该部门数据"
        notes = []
        if stale:
            notes.append(f"报表中仍是运行 {status['loaded_run_id']} 载入的数据")
        if item["ignored_sheets"]:
            notes.append("未读取的工作表：" + "、".join(item["ignored_sheets"]))
        lines.append({
            "dept_code": code or ("（项目自评表）" if item["forms"] else "（未知）"), "file": file, "outcome": outcome,
            "rejected": rejected, "errors": errors, "warnings": warnings, "note": "；".join(notes),
        })
    schema = {"dept_code": pl.String, "file": pl.String, "outcome": pl.String, "rejected": pl.Boolean,
              "errors": pl.Int64, "warnings": pl.Int64, "note": pl.String}
    frame = pl.DataFrame(lines, schema=schema)
    return frame.sort(["rejected", "errors", "warnings", "dept_code", "file"], descending=[True, True, True, False, False])


def finding_lines(findings: pl.DataFrame, departments: pl.DataFrame) -> pl.DataFrame:
    """Findings in reading order: by department as `departments` orders them, errors first, then by place."""
    order = {(r["file"]): i for i, r in enumerate(departments.iter_rows(named=True))}
    outcome = {r["file"]: r["outcome"] for r in departments.iter_rows(named=True)}
    rows = []
    for f in findings.iter_rows(named=True):
        rows.append({
            "dept_code": f["dept_code"] or "（未知）", "file": f["file"] or "", "outcome": outcome.get(f["file"], ""),
            "severity": _SEVERITY.get(f["severity"], f["severity"]), "sheet": f["sheet"] or "",
            "cell": f["cell"] or "", "value": "" if f["value"] is None else str(f["value"]),
            "message": f["message"], "rule": f["rule"],
            "_order": (order.get(f["file"], len(order)), f["severity"] != "error", f["sheet"] or "",
                       *_cell_key(f["cell"]), f["rule"]),
        })
    rows.sort(key=lambda r: r["_order"])
    schema = dict.fromkeys(CSV_COLUMNS, pl.String)
    return pl.DataFrame([{k: r[k] for k in CSV_COLUMNS} for r in rows], schema=schema)


def _cell_key(cell: str | None) -> tuple[int, int]:
    """D10 after D9: cells ordered by row, then column, as a person scans a sheet."""
    match = _CELL.match(cell or "")
    if not match:
        return (0, 0)
    letters, row = match.groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(row), col


def build_departments_table(lines: pl.DataFrame, year: int, run_id: str) -> GT:
    """The inputs with something to say (rejected, a finding, a note); the clean ones are counted, not listed:
    a province's thousands of them would bury the few a clerk must act on (the year's index lists them all)."""
    rejected_total = int(lines["rejected"].sum())
    loaded = lines.height - rejected_total
    listed = lines.filter(pl.col("rejected") | (pl.col("errors") > 0) | (pl.col("warnings") > 0) | (pl.col("note") != ""))
    clean, more = lines.height - listed.height, max(0, listed.height - SHOWN_ROWS)
    listed = listed.head(SHOWN_ROWS)
    rejected = [i for i, r in enumerate(listed.iter_rows(named=True)) if r["rejected"]]
    table = listed.drop("rejected").with_columns(pl.col("errors", "warnings").cast(pl.String))
    gt = (
        GT(table, id="validation-departments")
        # structure
        .tab_header(title=f"{year}年度工作簿校验结果",
                    subtitle=f"共 {lines.height} 份，已载入 {loaded} 份，被拒收 {rejected_total} 份"
                             + (f"；另有 {clean} 份已载入且未发现问题，未逐一列出" if clean else ""))
        .cols_label(dept_code="部门编码", file="文件", outcome="处理结果", errors="错误", warnings="警告", note="说明")
        # formatting
        .cols_align("right", columns=["errors", "warnings"])
    )
    # style
    if rejected:
        gt = gt.tab_style(_REJECTED, loc.body(rows=rejected)).tab_style(_ERROR, loc.body(columns="outcome", rows=rejected))
    if more:
        gt = gt.tab_source_note(_more(more, "份工作簿"))
    return (
        gt.tab_source_note("被拒收的工作簿整体未载入；请按下表逐项修正后重新提交。警告不影响载入，但请核实。")
        .tab_source_note(_as_of(run_id))
        .opt_table_font(font=_CJK_FONTS)
    )


def _more(count: int, what: str) -> str:
    return (f"此页只列出前 {SHOWN_ROWS} 行；另有 {count} {what}未在此页列出，"
            "全部见同一文件夹中的 validation.csv（可在 Excel 中按部门筛选）。")


def build_findings_table(lines: pl.DataFrame, run_id: str) -> GT:
    more = max(0, lines.height - SHOWN_ROWS)
    lines = lines.head(SHOWN_ROWS)
    grouped = lines.with_columns(
        pl.concat_str([pl.col("dept_code"), pl.lit(" · "), pl.col("file"), pl.lit("（"), pl.col("outcome"), pl.lit("）")])
        .alias("group")
    ).select("group", "severity", "sheet", "cell", "value", "message", "rule")
    # The department is named on its first finding only. Not great-tables row groups: their
    # layout is worked out again for every group, quadratic in a province's thousands.
    grouped = grouped.with_columns(
        pl.when(pl.col("group") != pl.col("group").shift(1).fill_null("")).then(pl.col("group")).otherwise(pl.lit(""))
    )
    errors = [i for i, s in enumerate(grouped["severity"]) if s == "错误"]
    gt = (
        GT(grouped, id="validation-findings")
        # structure
        .tab_header(title="校验问题明细", subtitle="按部门排列，错误在前；单元格为 Excel 中的位置")
        .cols_label(group="部门 · 文件（处理结果）", severity="级别", sheet="工作表", cell="单元格", value="填写值",
                    message="问题说明", rule="规则")
        # formatting: short columns kept on one line, the message takes the rest
        .cols_width(cases={"group": "14em", "severity": "4em", "sheet": "7em", "cell": "5em", "value": "12em",
                           "message": "32em"})
    )
    # style: errors only. great-tables looks up every cell's styles in the list of all styled cells,
    # so styling each warning of a province's thousands costs minutes; warnings stay plain text.
    if errors:
        gt = gt.tab_style(_ERROR, loc.body(columns="severity", rows=errors))
    if more:
        gt = gt.tab_source_note(_more(more, "条问题"))
    return gt.tab_source_note(_as_of(run_id)).opt_table_font(font=_CJK_FONTS)


def _as_of(run_id: str) -> str:
    return f"截至运行编号 {run_id}：每份工作簿列出其最近一次被读取时发现的问题"


def _page(title: str, fragments: list[str]) -> bytes:
    body = "\n".join(fragments)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def write_validation_report(out_dir: Path, year: int, run_id: str, inputs: pl.DataFrame,
                            findings: pl.DataFrame, statuses: pl.DataFrame) -> list[Path]:
    """validation.html and validation.csv under out_dir/<year>/ for the year's inputs; returns their paths.

    `inputs` and `statuses` as department_lines takes them; `findings` has the columns of
    audit.validation_issues (dept_code, file, sheet, cell, severity, rule, message, value)."""
    summary = department_lines(inputs, findings, statuses)
    lines = finding_lines(findings, summary)
    fragments = [build_departments_table(summary, year, run_id).as_raw_html()]
    if lines.height:
        fragments.append(build_findings_table(lines, run_id).as_raw_html())
    else:
        fragments.append("<p>未发现任何问题。</p>")
    folder = out_dir / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    html, csv = folder / "validation.html", folder / "validation.csv"
    html.write_bytes(_page(f"{year}年度工作簿校验结果", fragments))
    text = [c for c, t in lines.schema.items() if t == pl.String]
    lines.with_columns(pl.col(text).map_elements(spreadsheet_text, return_dtype=pl.String)) \
        .rename(CSV_COLUMNS).write_csv(csv, include_bom=True)
    return [html, csv]
