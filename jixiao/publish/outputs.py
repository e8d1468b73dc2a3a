"""Which files a run writes for each department: HTML, PNG, Excel, Word (`jixiao run --formats`).

Per department folder `<out>/<year>/<部门编码>/`:

- html: `index.html` (every sentence and table), one page per table, `summary.html`;
- png: one picture per table (`table_2_3.png`), drawn by headless Chromium;
- xlsx: `<部门编码>_<year>.xlsx`, one sheet per table as filed (tables.filed), the sentences, a 说明;
- docx: `<部门编码>_<year>.docx`, the sentences, the tables as filed as Word tables, a 说明.

The year's index page for the bureau, `<out>/<year>/index.html`, comes with html.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from great_tables import GT

from jixiao.publish.excel_report import write_workbook
from jixiao.publish.png import MISSING_CHROMIUM, find_chromium, save_pngs
from jixiao.publish.report import DepartmentReport, department_report, write_html
from jixiao.publish.word_report import write_document

FORMATS = ("html", "png", "xlsx", "docx")


def parse_formats(text: str) -> tuple[str, ...]:
    """"html,png" → ("html", "png"); "all" → every format; "none" → () (the data path alone)."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if words == ["all"] or not words:
        return FORMATS
    if words == ["none"]:
        return ()
    unknown = [w for w in words if w not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)}: choose from {', '.join(FORMATS)}, all or none")
    return tuple(f for f in FORMATS if f in words)


def file_stem(dept_code: str, year: int | str) -> str:
    """The Excel and Word files' name: PY-DPF_2022."""
    return f"{dept_code}_{year}"


def department_files(dept_code: str, year: int | str, formats: Sequence[str] = FORMATS) -> dict[str, str]:
    """The files in a department's folder that the year's index links to, by format, of those `formats` writes."""
    stem = file_stem(dept_code, year)
    names = {"html": "index.html", "xlsx": f"{stem}.xlsx", "docx": f"{stem}.docx"}
    return {f: names[f] for f in formats if f in names}


@dataclass
class Written:
    paths: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (部门编码, format, what went wrong)


def draw_chunk(jobs) -> list[Written]:
    """(folder, source note, report frames, formats) jobs drawn in one process: the unit of work of a
    drawing process; the chunk's pictures share one browser."""
    if not jobs:
        return []
    reports = [(folder, department_report(source=source, **frames)) for folder, source, frames, _ in jobs]
    return [write_departments(reports, jobs[0][3])]


def write_departments(reports: Iterable[tuple[Path, DepartmentReport]], formats: Sequence[str]) -> Written:
    """Every department's files in the chosen formats; the pictures of all of them with one browser."""
    written = Written()
    pictures: list[tuple[GT, Path]] = []
    reports = list(reports)
    for folder, report in reports:
        for fmt in ("html", "xlsx", "docx"):
            if fmt not in formats:
                continue
            # One department's drawing failing is that department's finding, not the district's failed run.
            try:
                written.paths.extend(_draw(fmt, report, folder))
            except Exception as exc:
                written.failed.append((report.dept_code, fmt, f"{type(exc).__name__}: {str(exc)[:200]}"))
        if "png" in formats:
            pictures.extend((gt, folder / f"{key}.png") for key, gt in report.drawn.items())
    if pictures:
        drawn, warning = save_pngs(pictures)
        written.paths.extend(drawn)
        if warning:
            written.warnings.append(warning)
    _remove_stale(reports, written.paths)
    return written


def _draw(fmt: str, report: DepartmentReport, folder: Path) -> list[Path]:
    stem = folder / file_stem(report.dept_code, report.year)
    if fmt == "html":
        return write_html(report, folder)
    if fmt == "xlsx":
        return [write_workbook(report.tables, report.sentences, report.title, stem.with_suffix(".xlsx"))]
    return [write_document(report.tables, report.sentences, report.report_title, report.source, stem.with_suffix(".docx"))]


# A department folder's pages and pictures: with its Excel and Word files, all this module writes there.
_PAGES = ("index.html", "summary.html", "table_*.html", "table_*.png")


def _remove_stale(reports: Iterable[tuple[Path, DepartmentReport]], written: Sequence[Path]) -> None:
    """Delete the files of a redrawn department that this run did not write: per-table files of tables
    no longer drawn (no 表1-1 without tasks), pictures the browser could not redraw, a drawing that
    failed, and every format the run did not draw. Each would sit beside the new files, linked from
    the year's index, showing figures the marts no longer hold (an older run's Word file can even
    name another department). Only the names this module writes are touched."""
    keep = set(written)
    for folder, report in reports:
        for pattern in (*_PAGES, *department_files(report.dept_code, report.year, ("xlsx", "docx")).values()):
            for path in folder.glob(pattern):
                if path not in keep:
                    remove_undrawn(path)


def remove_undrawn(path: Path) -> None:
    """A file of ours this drawing did not write: an earlier run's, showing figures the marts may no longer
    hold, and linked from the pages beside it. A folder of that name is not a file we wrote: it stays."""
    if not path.is_dir():
        path.unlink(missing_ok=True)


def picture_warning(formats: Sequence[str], loaded: Sequence[str], reports: Sequence[str | Path]) -> str | None:
    """The run summary's warning when pictures were asked for and none were drawn; None otherwise."""
    if "png" not in formats or not loaded or any(str(p).endswith(".png") for p in reports):
        return None
    return MISSING_CHROMIUM if find_chromium() is None else "Chromium 未能生成 PNG 图片，详见运行日志"
