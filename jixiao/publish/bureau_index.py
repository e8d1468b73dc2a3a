"""The bureau's view of a year: every department on one sortable page, `<out>/<year>/index.html`.

One row per department with data in the warehouse for the year (from
mart.department_summary, whichever run loaded it), plus the workbooks this run
rejected. Each department links to its own page and files. When the warehouse
holds the previous year, its score and execution rate are shown beside this
year's, with the change. Sorting is a few lines of inline script on the
great-tables table, so the page stays one self-contained file.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import polars as pl
from great_tables import GT

from jixiao.load.warehouse import has_tables
from jixiao.publish.display import MISSING, fmt_number, fmt_percent, fmt_score, round_half_up
from jixiao.publish.outputs import department_files
from jixiao.publish.report import finish_table, html_page
from jixiao.publish.tables import LOW_RATE
from jixiao.settings import sql_file

# Flagged rows (execution below 90%, rejected) are marked by a class on their cells' content and
# styled by CSS, not by great-tables' tab_style: it looks each cell up in the list of all styled
# cells, which takes minutes for a province's year, and the marks follow a row when it is sorted.
_FLAG_CSS = """
#{id} tr:has(.flag) td {{ background-color: #fdecea; }}
#{id} .flag {{ color: #b3261e; font-weight: bold; }}
"""


_SORT_SCRIPT = """
<script>
/* Click a column heading to sort by it; again to reverse. Blank (—) sorts last. */
(function () {
  function key(text) {
    var t = text.trim();
    if (t === "" || t === "—") return null;
    var n = Number(t.replace(/[,%+]/g, ""));
    return isNaN(n) ? t : n;
  }
  document.querySelectorAll(".sortable table").forEach(function (table) {
    var heads = table.querySelectorAll("thead tr.gt_col_headings th");
    var body = table.querySelector("tbody");
    heads.forEach(function (th, col) {
      th.style.cursor = "pointer";
      th.title = "点击排序";
      th.addEventListener("click", function () {
        var up = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col].textContent), y = key(b.cells[col].textContent);
          if (x === null || y === null) return x === y ? 0 : (x === null ? 1 : -1);
          var c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y), "zh");
          return up ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
</script>
"""


def read_year(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    """Every department of the year in the warehouse, with last year's figures when there are any."""
    if not has_tables(con, "mart.department_summary"):
        return pl.DataFrame()
    return con.sql(sql_file("reports/year_index.sql"), params={"year": year}).pl()


def _signed(value: Any, scale: int = 0) -> str:
    """A change with its sign, two decimals half up: +1.23, -0.50, 0.00."""
    if value is None:
        return MISSING
    shown = round_half_up(Decimal(value).scaleb(scale), 2)
    return f"+{shown:.2f}" if shown > 0 else f"{shown:.2f}"


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def _files(year_dir: Path, dept_code: str) -> dict[str, str]:
    """Links (relative to the year's folder) to the department's files on disk: the index is drawn
    after them, and a redrawn department's folder holds only what its last drawing wrote."""
    folder = year_dir / dept_code
    return {_LABELS[fmt]: f"{quote(dept_code)}/{quote(name)}"
            for fmt, name in department_files(dept_code, year_dir.name).items() if (folder / name).is_file()}


_LABELS = {"html": "网页", "xlsx": "Excel", "docx": "Word"}


def build_year_index(
    rows: pl.DataFrame, year: int, year_dir: Path, rejected: Iterable[dict[str, Any]], source: str,
) -> GT:
    """The year's departments as one table; `rejected` are the year's workbooks that did not load, as
    their last read left them."""
    departments = rows.to_dicts() if rows.height else []
    with_previous = any(r["previous_total_score"] is not None for r in departments)
    rejected = list(rejected)
    rejected_codes = {r["dept_code"] for r in rejected if r.get("dept_code")}
    lines: list[dict[str, str]] = []
    low: list[int] = []

    for r in departments:
        files = _files(year_dir, r["dept_code"])
        name = (_link(files["网页"], r["dept_name"] or r["dept_code"]) if "网页" in files
                else escape(r["dept_name"] or r["dept_code"]))
        status = "本次提交被拒收，显示上次载入的数据" if r["dept_code"] in rejected_codes else "已载入"
        if r["execution_rate"] is not None and round_half_up(r["execution_rate"], 4) < LOW_RATE:
            low.append(len(lines))
        lines.append({
            "dept": name,
            "code": escape(r["dept_code"]),
            "score": fmt_score(r["total_score"]),
            "grade": escape(r["grade"] or MISSING),
            "execution": fmt_percent(r["execution_rate"]),
            "total": fmt_number(r["indicators_total"]),
            "ge_100": fmt_number(r["indicators_ge_100"]),
            "mid": fmt_number(r["indicators_90_100"]),
            "lt_90": fmt_number(r["indicators_lt_90"]),
            "findings": fmt_number(r["findings"]),
            "previous_score": fmt_score(r["previous_total_score"]),
            "score_change": _signed(None if r["previous_total_score"] is None
                                    else r["total_score"] - r["previous_total_score"]),
            "previous_execution": fmt_percent(r["previous_execution_rate"]),
            "execution_change": _signed(None if r["previous_execution_rate"] is None
                                        else r["execution_rate"] - r["previous_execution_rate"], 2),
            "status": escape(status),
            "files": " · ".join(_link(href, label) for label, href in files.items() if label != "网页"),
        })
    loaded = {r["dept_code"] for r in departments}
    for r in rejected:
        if r.get("dept_code") in loaded:
            continue
        low.append(len(lines))
        lines.append({
            "dept": escape(r.get("dept_name") or r["file"]), "code": escape(r.get("dept_code") or MISSING),
            "findings": fmt_number(r["errors"]), "status": escape("本次提交被拒收，未载入"),
        })

    columns = {
        "dept": "部门", "code": "部门编码", "score": "自评得分", "grade": "等级", "execution": "预算执行率",
        "total": "指标数", "ge_100": "完成率≥100%", "mid": "90%-100%", "lt_90": "<90%", "findings": "问题数",
        "previous_score": f"{year - 1}年得分", "score_change": "得分增减",
        "previous_execution": f"{year - 1}年执行率", "execution_change": "执行率增减（百分点）",
        "status": "状态", "files": "下载",
    }
    if not with_previous:
        for key in ("previous_score", "score_change", "previous_execution", "execution_change"):
            columns.pop(key)
    for i in low:
        for key in ("execution", "status"):
            lines[i][key] = f'<span class="flag">{lines[i].get(key, "")}</span>'
    frame = pl.DataFrame([{k: line.get(k, "") for k in columns} for line in lines],
                         schema=dict.fromkeys(columns, pl.String))
    numbers = [k for k in columns if k not in ("dept", "code", "grade", "status", "files")]
    notes = ["点击列标题可排序；部门名称链接到该部门的全部表格与文字。"]
    if with_previous:
        notes.append(f"{year - 1}年数据取自数据仓库中该部门上一年度的汇总。")
    if rejected:
        notes.append("“本次提交被拒收”的工作簿存在错误，错误明细见 audit.validation_issues。")
    table_id = f"year-{year}"
    return (
        GT(frame, id=table_id)
        # structure
        .tab_header(title=f"{year}年度各部门整体支出绩效自评一览", subtitle=f"共{len(lines)}个部门")
        .cols_label(**columns)
        # formatting: these cells hold HTML built here with every workbook text escaped
        .fmt(lambda x: x, columns=["dept", "code", "grade", "execution", "status", "files"])
        .cols_align("right", columns=numbers)
        # style
        .opt_css(_FLAG_CSS.format(id=table_id))
        .pipe(finish_table, notes, source)
    )


def write_year_index(
    rows: pl.DataFrame, out_dir: Path, year: int, rejected: Iterable[dict[str, Any]], source: str,
    *, validation_written: bool = False,
) -> Path:
    """`<out>/<year>/index.html` from read_year's rows: every department, sortable, linking to their pages,
    and to the year's validation page when it is on disk or being written (`validation_written`)."""
    year_dir = out_dir / str(year)
    gt = build_year_index(rows, year, year_dir, rejected, source)
    title = f"{year}年度各部门整体支出绩效自评一览"
    fragments = [f'<div class="table sortable">{gt.as_raw_html()}</div>', _SORT_SCRIPT]
    if validation_written or (year_dir / "validation.html").is_file():
        fragments.insert(0, '<nav><a href="validation.html">本年度数据校验报告</a></nav>')
    year_dir.mkdir(parents=True, exist_ok=True)
    path = year_dir / "index.html"
    path.write_bytes(html_page(fragments, title))
    return path
