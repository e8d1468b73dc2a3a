"""Characterisation: what the pipeline makes of a district over two years, pinned as checksums.

64 synthetic departments over 2021 and 2022, 15 % of them broken on purpose,
run through the real flow, then a 2022 rerun after a few departments corrected
their workbooks. The golden file holds a checksum per warehouse table (every
mart, audit and raw table; run ids, timestamps, durations and the code's own
hash left out) and per drawn file (run ids and times normalised; Office files
hashed entry by entry, their dated properties left out).

A refactoring must leave every line of tests/golden/characterisation.json as it
is. A change of behaviour rewrites it with `--update-golden`, and the diff says
which tables and files moved.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import duckdb
import pytest

from jixiao_synth.synth import mutate, synthesize

pytestmark = pytest.mark.slow

DEPARTMENTS = 64
YEARS = (2021, 2022)
FORMATS = ["html", "xlsx", "docx"]

# What differs between two runs of the same inputs and code.
_VOLATILE_COLUMNS = re.compile(r"(^|_)run_id$|_at$|^stale_since$|^seconds$|^mtime$|^code_version$|^jixiao_version$")
_RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{8}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")
_OFFICE_DATED = {"docProps/core.xml", "docProps/app.xml"}


def _normalise(text: str, root: Path) -> str:
    text = text.replace(str(root), "<root>")
    return _TIMESTAMP.sub("<time>", _RUN_ID.sub("<run>", text))


def table_checksums(warehouse: Path, root: Path) -> dict[str, str]:
    sums = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.sql("select table_schema, table_name from information_schema.tables "
                         "where table_schema in ('raw', 'mart', 'audit', 'config') order by all").fetchall()
        for schema, table in tables:
            columns = [name for (name,) in con.sql(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "order by ordinal_position", params=[schema, table]).fetchall() if not _VOLATILE_COLUMNS.search(name)]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = con.sql(f'select {listed} from "{schema}"."{table}" order by all').fetchall()
            body = _normalise(repr((columns, rows)), root)
            sums[f"{schema}.{table}"] = f"{len(rows)} rows {hashlib.sha256(body.encode()).hexdigest()[:16]}"
    return sums


def file_checksums(out_dir: Path, root: Path) -> dict[str, str]:
    sums = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        if path.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(path) as book:
                for entry in sorted(book.namelist()):
                    if entry not in _OFFICE_DATED:
                        digest.update(entry.encode() + _normalise(book.read(entry).decode("utf-8", "replace"),
                                                                  root).encode())
        elif path.suffix in (".html", ".csv", ".json", ".md", ".txt"):
            digest.update(_normalise(path.read_text(encoding="utf-8"), root).encode())
        else:
            digest.update(path.read_bytes())
        sums[str(path.relative_to(out_dir))] = digest.hexdigest()[:16]
    return sums


def test_two_years_of_a_district_are_unchanged(tmp_path, prefect_server, golden):
    from flows.year import run_year

    raw = tmp_path / "raw"
    synthesize(raw, DEPARTMENTS, YEARS, seed=7, broken_share=0.15, processes=1)
    warehouse, out = tmp_path / "warehouse" / "jixiao.duckdb", tmp_path / "reports"

    def run(year: int):
        return run_year(year, raw, warehouse, out, formats=FORMATS)

    for year in YEARS:
        run(year)
    changed = mutate(raw, 0.05, 2022, seed=1, processes=1)
    rerun = run(2022)
    assert len(changed) == 3 and set(rerun.loaded) >= {Path(p).stem for p in changed}

    pinned = {"tables": table_checksums(warehouse, tmp_path), "files": file_checksums(out, tmp_path)}
    golden("characterisation.json", json.dumps(pinned, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
