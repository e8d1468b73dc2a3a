"""Typed rows of every department of a run, concatenated into one frame per table.

The schema here is the warehouse's `raw` layer: money as Decimal(18,2) 元,
rates as fractions, indicator values exact. Validation and the load both
work on these frames, so a whole district is checked and loaded at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from jixiao.domain import Department

MONEY = pl.Decimal(18, 2)
RATE = pl.Decimal(18, 8)
VALUE = pl.Decimal(24, 6)
POINTS = pl.Decimal(9, 4)

_SOURCE = {"year": pl.Int32, "dept_code": pl.String, "src_file": pl.String}
_ROW = {"src_sheet": pl.String, "src_row": pl.Int32}

TABLES: dict[str, dict[str, pl.DataType]] = {
    "departments": {
        **_SOURCE, "dept_name": pl.String, "dept_short_name": pl.String, "budget_yuan": MONEY,
        "revenue_yuan": MONEY, "spent_yuan": MONEY, "spend_target_rate": RATE, "subunits": pl.Int32,
        "ruleset": pl.String,
    },
    "tasks": {**_SOURCE, **_ROW, "task_no": pl.Int32, "task": pl.String, "outcome": pl.String},
    "indicators": {
        **_SOURCE, **_ROW, "indicator_no": pl.Int32, "level1": pl.String, "level2": pl.String,
        "indicator": pl.String, "target_text": pl.String, "target_value": VALUE, "target_unit": pl.String,
        "target_comparator": pl.String, "direction": pl.String, "actual_text": pl.String,
        "actual_value": VALUE, "actual_unit": pl.String, "actual_direction": pl.String,
        "actual_met": pl.Boolean,
        "reported_rate": RATE, "weight": POINTS, "reported_score": POINTS,
        "actual_cell": pl.String, "reported_rate_cell": pl.String,
    },
    "projects": {
        **_SOURCE, **_ROW, "task_no": pl.Int32, "task": pl.String, "project_no": pl.Int32,
        "project": pl.String, "budget_yuan": MONEY, "spent_yuan": MONEY, "reported_rate": RATE,
        "reported_rate_cell": pl.String,
    },
    "scores": {
        **_SOURCE, **_ROW, "item_no": pl.Int32, "level1": pl.String, "level1_weight": POINTS,
        "level2": pl.String, "level2_weight": POINTS, "item": pl.String, "weight": POINTS,
        "reported_score": POINTS, "reported_score_cell": pl.String,
    },
    "stated": {
        **_SOURCE, **_ROW, "figure": pl.String, "reported_text": pl.String, "reported_value": VALUE,
        "tolerance": VALUE, "src_cell": pl.String,
    },
    "reported": {
        **_SOURCE, **_ROW, "figure": pl.String, "label": pl.String, "reported_text": pl.String,
        "reported_value": VALUE, "tolerance": VALUE, "src_cell": pl.String,
    },
    "notes": {**_SOURCE, **_ROW, "text": pl.String},
}


def department_row(dept: Department) -> dict:
    info = dept.info
    return {
        "year": dept.year, "dept_code": dept.dept_code, "src_file": dept.file,
        "dept_name": info.get("dept_name"), "dept_short_name": info.get("dept_short_name"),
        "budget_yuan": info.get("budget"), "revenue_yuan": info.get("revenue"), "spent_yuan": info.get("spent"),
        "spend_target_rate": info.get("spend_target_rate"),
        "subunits": int(info["subunits"]) if info.get("subunits") is not None else None,
        "ruleset": info.get("ruleset") or None,
    }


def build_frames(departments: list[Department]) -> dict[str, pl.DataFrame]:
    # Built column by column: polars takes a list of values per column faster than a list of
    # dicts, and types them alike (tests/test_fast_paths.py holds it to that).
    frames = {}
    for name, schema in TABLES.items():
        if name == "departments":
            columns = _columns(schema, [department_row(dept) for dept in departments])
        else:
            rows: list[dict] = []
            owners: list[Department] = []  # each row's department, for its source columns
            for dept in departments:
                table = dept.rows.get(name, ())
                rows.extend(table)
                owners.extend([dept] * len(table))
            # The extract never puts the source columns in a row: they are its department's.
            columns = {"year": [d.year for d in owners], "dept_code": [d.dept_code for d in owners],
                       "src_file": [d.file for d in owners],
                       **_columns([key for key in schema if key not in _SOURCE], rows)}
        frames[name] = _frame(name, columns, schema)
    return frames


def _frame(name: str, columns: dict[str, list], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The table's frame. strict=False lets polars take an int or a float for a Decimal column, but
    it would also make null of a value that fits no column type: that raises here instead."""
    frame = pl.DataFrame(columns, schema=schema, strict=False)
    for column, values in columns.items():
        if frame[column].null_count() != values.count(None):
            raise ValueError(f"{name}.{column}: a value does not fit {schema[column]} "
                             f"(values as given: {[v for v in values if v is not None][:5]}…)")
    return frame


def _columns(keys: Iterable[str], rows: list[dict]) -> dict[str, list]:
    """Each key's values down `rows` (None where a row leaves it out)."""
    return {key: [row.get(key) for row in rows] for key in keys}


class ReadBatch:
    """Inputs as read: each department's and each project form's facts and findings, and all their typed
    rows as frames, one per raw table of every form family.

    A reading process sends its inputs back with their rows as frames
    (read_chunk): rows of Decimals and dicts would be pickled object by object.

    Not a dataclass: Prefect walks a dataclass passed to a task, field by field,
    looking for futures (seconds per task for a few hundred departments); a plain
    object it passes as it is.
    """

    def __init__(self, departments: list[Department], frames: dict[str, pl.DataFrame],
                 forms: list | None = None) -> None:
        self.departments = departments  # their rows are in `frames` (read_chunk drops the copies)
        self.forms = forms or []  # project forms (jixiao.domain.ProjectForm), their rows in `frames` too
        self.frames = frames  # every input's rows, those without an identity included

    @classmethod
    def of(cls, departments: list[Department], forms: list | None = None) -> ReadBatch:
        from jixiao.families.project.read import frames as form_frames

        return cls(departments, build_frames(departments) | form_frames(forms or []), forms)

    @classmethod
    def joined(cls, parts: Sequence[ReadBatch]) -> ReadBatch:
        """Parts in order, as one batch."""
        from jixiao.families import raw_tables

        frames = {name: pl.concat([p.frames[name] for p in parts]) if parts else pl.DataFrame(schema=schema)
                  for name, schema in raw_tables().items()}
        return cls([d for p in parts for d in p.departments], frames, [f for p in parts for f in p.forms])

    @property
    def files(self) -> int:
        """Input files read: a workbook of several project forms is one."""
        return len(self.departments) + len({f.file for f in self.forms})

    def only(self, files: set[str]) -> ReadBatch:
        """The departments and forms of these input files, with their rows."""
        return ReadBatch([d for d in self.departments if d.file in files],
                         {name: f.filter(pl.col("src_file").is_in(files)) for name, f in self.frames.items()},
                         [f for f in self.forms if f.file in files])
