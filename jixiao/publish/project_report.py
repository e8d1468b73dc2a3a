"""The project forms' outputs: the year's roll-up and each 主管部门's, and each form redrawn.

Under `<out>/<year>/projects/`:

- `index.html`: the distribution of scores and execution rates (as bars), the 主管部门 and their
  pages; `汇总表_<year>.xlsx` / `.docx`: every project of the year, report-ready;
- `<主管部门>/index.html`, `.xlsx`, `.docx`: that department's projects, with links to their forms;
- `forms/<form id>.html`, `.xlsx`, `.docx`: one form, in the form's own layout.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

import polars as pl
from great_tables import GT

from jixiao.publish.excel_report import write_workbook
from jixiao.publish.outputs import remove_undrawn
from jixiao.publish.project_tables import (
    ROLLUP_TITLE,
    form_header,
    form_id,
    shape_distribution,
    shape_form_funds,
    shape_form_indicators,
    shape_rollup,
)
from jixiao.publish.report import draw_table, drawn_from, html_page
from jixiao.publish.tables import PERCENT, SCORE, WAN, WEIGHT, Column, ReportTable
from jixiao.publish.word_report import write_tables_document

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def dept_folder(dept_name: str | None) -> str:
    """A 主管部门's folder: its name, less what a file system refuses, at most 60 characters."""
    name = _UNSAFE.sub("_", (dept_name or "").strip()).strip(". ")[:60]
    return name or "未填写主管部门"


def write_year(out_dir: Path, year: int, rollup: pl.DataFrame, departments: pl.DataFrame, source: str,
               formats: Sequence[str], code: str = "") -> list[Path]:
    """The year's roll-up, the distribution and every 主管部门's page whose rows changed.

    A 主管部门's page is drawn again when its rows, the formats or the code (`code`, the ledger's
    code_version) differ from those its page was drawn from (a mark in its head): a province's
    nightly changes the forms of a few of its thousands of 主管部门, each page about 40 ms of
    great-tables. The year's own pages show every row and are always drawn."""
    folder = out_dir / str(year) / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    table = shape_rollup(rollup, year, source)
    distribution = shape_distribution(rollup, year, source)
    written = _office(folder / f"汇总表_{year}", [table, distribution], table.title, formats)
    by_dept = rollup.partition_by("dept_name", as_dict=True, maintain_order=True) if rollup.height else {}
    for (dept_name,), rows in by_dept.items():
        dept_dir = folder / dept_folder(dept_name)
        mark = _fingerprint(rows, formats, code) if "html" in formats else None  # the page carries it
        if mark and drawn_from(dept_dir / "index.html") == mark and all(
                (dept_dir / f"汇总表_{year}.{fmt}").is_file() for fmt in formats if fmt in ("xlsx", "docx")):
            continue
        written += write_department(dept_dir, year, dept_name, rows, source, formats, mark)
    if "html" in formats:
        parts = [f"<h1>{escape(f'{year}年度{ROLLUP_TITLE}')}</h1>", f'<p class="meta">{escape(source)}</p>',
                 _downloads(f"汇总表_{year}", formats),
                 f'<div class="table">{_distribution_html(distribution).as_raw_html()}</div>',
                 f'<div class="table">{draw_table(_departments_table(departments, year, source)).as_raw_html()}</div>',
                 "<h2>各主管部门</h2>", "<ul>"]
        parts += [f'<li><a href="{escape(dept_folder(name))}/index.html">{escape(name or "未填写主管部门")}</a></li>'
                  for (name,), _ in by_dept.items()]
        parts.append("</ul>")
        written.append(_page(folder / "index.html", parts, table.title))
    else:
        remove_undrawn(folder / "index.html")
    return written


def _fingerprint(rows: pl.DataFrame, formats: Sequence[str], code: str) -> str:
    digest = hashlib.sha256(rows.write_csv().encode())
    digest.update(f"|{','.join(sorted(formats))}|{code}".encode())
    return digest.hexdigest()[:32]


def write_department(folder: Path, year: int, dept_name: str | None, rows: pl.DataFrame, source: str,
                     formats: Sequence[str], mark: str | None = None) -> list[Path]:
    table = shape_rollup(rows, year, source, dept_name=dept_name or "未填写主管部门")
    written = _office(folder / f"汇总表_{year}", [table], table.title, formats)
    if "html" in formats:
        links = "".join(
            f'<li><a href="../forms/{form_id(r["project_key"])}.html">{escape(r["unit_name"] or "")}：'
            f'{escape(r["project"] or "")}</a></li>' for r in rows.iter_rows(named=True))
        parts = [f"<h1>{escape(table.title)}</h1>", f'<p class="meta">{escape(source)}</p>',
                 '<nav><a href="../index.html">返回本年度项目汇总</a></nav>', _downloads(f"汇总表_{year}", formats),
                 f'<div class="table">{draw_table(table).as_raw_html()}</div>', "<h2>各项目自评表</h2>",
                 f"<ul>{links}</ul>"]
        written.append(_page(folder / "index.html", parts, table.title, mark))
    else:
        remove_undrawn(folder / "index.html")
    return written


def draw_forms(jobs) -> list[tuple[list[Path], list[tuple[str, str, str]]]]:
    """(out dir, year, form row, its funds, its indicators, formats, run note) jobs drawn in one process:
    the unit of work of a drawing process. A form whose drawing fails is named in the second list
    (project key, format, what went wrong); the others are drawn."""
    written, failed = [], []
    for out_dir, year, form, funds, indicators, formats, run_note in jobs:
        try:
            written += write_form(out_dir, year, form, funds, indicators, formats, run_note)
        except Exception as exc:  # one form's drawing failing is that form's finding, not the year's failed run
            for suffix in (".html", ".xlsx", ".docx"):  # what an earlier drawing left shows older figures
                remove_undrawn(_form_stem(out_dir, year, form).with_suffix(suffix))
            failed.append((form["project_key"], ",".join(formats), f"{type(exc).__name__}: {str(exc)[:200]}"))
    return [(written, failed)]


def write_form(out_dir: Path, year: int, form: dict, funds: pl.DataFrame, indicators: pl.DataFrame,
               formats: Sequence[str], run_note: str) -> list[Path]:
    """One form redrawn: its header and texts, 项目资金 and 绩效指标, as the rules score them."""
    source = f"数据来源：{form['src_file']} › {form['src_sheet']}；{run_note}"
    tables = [shape_form_funds(form, funds, source), shape_form_indicators(form, indicators, source)]
    title = f"{year}年度项目支出绩效自评表：{form['project'] or ''}"
    stem = _form_stem(out_dir, year, form)
    header = dict(form_header(form))
    written = _office(stem, tables, title, formats, sentences=header)
    if "html" in formats:
        rows = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in header.items())
        parts = [f"<h1>{escape(title)}</h1>", f'<p class="meta">{escape(source)}</p>',
                 f'<nav><a href="../{escape(dept_folder(form["dept_name"]))}/index.html">返回主管部门项目汇总</a></nav>',
                 f'<table class="form-header">{rows}</table>']
        parts += [f'<div class="table">{draw_table(t).as_raw_html()}</div>' for t in tables]
        written.append(_page(stem.with_suffix(".html"), parts, title))
    else:
        remove_undrawn(stem.with_suffix(".html"))
    return written


def _form_stem(out_dir: Path, year: int, form: dict) -> Path:
    return out_dir / str(year) / "projects" / "forms" / form_id(form["project_key"])


def _office(stem: Path, tables: list[ReportTable], title: str, formats: Sequence[str],
            sentences: dict[str, str] | None = None) -> list[Path]:
    written = []
    if "xlsx" in formats:
        written.append(write_workbook(tables, sentences or {}, title, stem.with_suffix(".xlsx")))
    else:
        remove_undrawn(stem.with_suffix(".xlsx"))
    if "docx" in formats:
        written.append(write_tables_document(tables, title, stem.with_suffix(".docx"), sentences or {}))
    else:
        remove_undrawn(stem.with_suffix(".docx"))
    return written


def _downloads(stem: str, formats: Sequence[str]) -> str:
    links = [f'<a href="{escape(stem)}.{fmt}">{label}</a>' for fmt, label in (("xlsx", "Excel"), ("docx", "Word"))
             if fmt in formats]
    return f'<p class="meta">下载：{"　".join(links)}</p>' if links else ""


def _page(path: Path, parts: list[str], title: str, mark: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(html_page(parts, title, mark))
    return path


def _distribution_html(table: ReportTable) -> GT:
    """The distribution with a bar per band (great-tables' nanoplots), beside the counts."""
    frame = pl.DataFrame({"kind": [r["kind"] for r in table.rows], "band": [r["band"] for r in table.rows],
                          "count": [r["count"] for r in table.rows], "bar": [r["count"] for r in table.rows]})
    return (GT(frame, groupname_col="kind", id=table.id).tab_header(title=table.title)
            .cols_label(band="区间", count="项目数（个）", bar="分布")
            .fmt_nanoplot(columns="bar", plot_type="bar")
            .tab_source_note(table.source))


def _departments_table(departments: pl.DataFrame, year: int, source: str) -> ReportTable:
    return ReportTable(
        key="departments", sheet="主管部门", id=f"project-departments-{year}", title=f"{year}年度各主管部门项目自评情况",
        columns=[Column("dept_name", "主管部门"), Column("projects", "项目数（个）", WEIGHT),
                 Column("budget_yuan", "全年预算数（万元）", WAN), Column("spent_yuan", "全年执行数（万元）", WAN),
                 Column("execution_rate", "执行率", PERCENT), Column("mean_score", "平均得分", SCORE),
                 Column("grade_excellent", "优（个）", WEIGHT)],
        rows=[{**r, "dept_name": r["dept_name"] or "未填写主管部门"} for r in departments.iter_rows(named=True)],
        source=source)
