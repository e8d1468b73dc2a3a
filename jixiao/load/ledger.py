"""The run ledger: what a run read, which code ran, how long each stage took.

A run is recorded before it does anything, with the fingerprint of every input
file and of the code, so any mart row (which carries its run_id) can be traced
to the exact bytes and code that produced it, and an unchanged nightly run can
be recognised and skipped.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import polars as pl

from jixiao.ingest.read import sha256, workbook_paths
from jixiao.ingest.safe_text import shown_name
from jixiao.publish.outputs import FORMATS
from jixiao.settings import PROJECT_ROOT


def file_fingerprint(path: Path) -> dict:
    stat = path.lstat()  # a link is not followed (read.not_a_plain_input)
    return {"path": shown_name(str(path)), "size": stat.st_size, "sha256": sha256(path),
            "mtime": datetime.fromtimestamp(stat.st_mtime, UTC)}


def input_name(path: Path, year_dir: Path) -> str:
    """A file's name relative to its year folder: the same file whether the run got raw/ or /srv/raw/."""
    return shown_name(path.relative_to(year_dir).as_posix())


def input_fingerprints(year_dir: Path) -> pl.DataFrame:
    rows = [{**file_fingerprint(p), "name": input_name(p, year_dir)} for p in workbook_paths(year_dir)]
    schema = {"path": pl.String, "size": pl.Int64, "sha256": pl.String, "mtime": pl.Datetime("us", "UTC"),
              "name": pl.String}
    return pl.DataFrame(rows, schema=schema)


@cache
def code_version() -> str:
    """A hash of everything that decides the marts: the package, the schemas and the SQL (not the
    generators of made-up data in jixiao_synth/, which decide nothing a run makes)."""
    digest = hashlib.sha256()
    for folder, pattern in (("jixiao", "**/*.py"), ("jixiao", "**/*.toml"), ("schemas", "*.py"), ("sql", "**/*.sql")):
        for path in sorted((PROJECT_ROOT / folder).glob(pattern)):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def rules_file_sha256(settings) -> str | None:
    return None if settings.rules_file is None else hashlib.sha256(settings.rules_file.read_bytes()).hexdigest()


def parameters_json(settings) -> str:
    parameters = {"year": settings.year, "raw_dir": str(settings.raw_dir), "departments": sorted(settings.departments),
                  "ruleset": settings.ruleset, "out_dir": str(settings.out_dir),
                  "formats": sorted(settings.formats if settings.formats is not None else FORMATS)}
    if settings.rules_file is not None:  # its rules score the year: an edit to it is a change of parameters
        parameters["rules_file"] = rules_file_sha256(settings)
    return json.dumps(parameters, ensure_ascii=False, sort_keys=True)
