"""The read's fast paths give what the general paths they stand in for give.

Reading a workbook takes a few milliseconds, most of it Python: the frames are
built column by column, plain number text is read without the caches, and a
table names its cells from letters worked out once. Each is held here to the way
it replaced, on ordinary input and on the odd.
"""

from __future__ import annotations

import random
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jixiao.domain import Department, cell_ref
from jixiao.ingest.frames import TABLES, build_frames, department_row
from jixiao.ingest.numbers import _plain_decimal, _text_decimal
from jixiao.ingest.read import Table
from jixiao.ingest.sheets import INDICATORS

# --- frames ---------------------------------------------------------------------------------


def _frames_row_by_row(departments: list[Department]) -> dict[str, pl.DataFrame]:
    """build_frames as it was: one dict per row, read by polars row by row."""
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    for dept in departments:
        rows["departments"].append(department_row(dept))
        source = {"year": dept.year, "dept_code": dept.dept_code, "src_file": dept.file}
        for name in TABLES:
            for row in dept.rows.get(name, []):
                rows[name].append({**source, **row})
    return {name: pl.DataFrame(rows[name], schema=schema, strict=False, orient="row") if rows[name]
            else pl.DataFrame(schema=schema) for name, schema in TABLES.items()}


def _value(rnd: random.Random, dtype: pl.DataType) -> object:
    if rnd.random() < 0.1:
        return None
    if isinstance(dtype, pl.Decimal):
        # Within the type's magnitude, as the extract's bounds keep it, at any number of decimals
        # (polars rounds those beyond its scale).
        whole, decimals = rnd.randint(0, dtype.precision - dtype.scale), rnd.randint(0, dtype.scale + 6)
        number = Decimal(rnd.choice("+-") + str(rnd.randrange(10 ** max(whole + decimals, 1)))).scaleb(-decimals)
        return number.normalize() if rnd.random() < 0.1 else number
    if dtype == pl.Int32:
        return rnd.choice([0, 1, -5, 2**31 - 1, 123_456])
    if dtype == pl.Boolean:
        return rnd.choice([True, False])
    return rnd.choice(["", "x", "任务1：培训", "a\u0000b", "  "])


def _department(rnd: random.Random, n: int) -> Department:
    dept = Department(f"D{n}.xlsx", year=rnd.choice([2022, None]), dept_code=rnd.choice([f"D{n}", None]))
    basic = TABLES["departments"]
    dept.info = {"dept_name": _value(rnd, pl.String), "budget": _value(rnd, basic["budget_yuan"]),
                 "spend_target_rate": _value(rnd, basic["spend_target_rate"]), "subunits": rnd.choice([None, Decimal(3)]),
                 "ruleset": rnd.choice([None, "", "panyu_share"])}
    for name, schema in TABLES.items():
        if name == "departments" or rnd.random() < 0.2:
            continue
        # A row may leave a column out (an optional column the sheet lacks): it is null.
        keys = [k for k in schema if k not in ("year", "dept_code", "src_file")]
        dept.rows[name] = [{k: _value(rnd, schema[k]) for k in keys if rnd.random() > 0.1}
                           for _ in range(rnd.randint(0, 12))]
    return dept


@pytest.mark.parametrize("seed", range(40))
def test_frames_built_by_column_are_the_frames_built_by_row(seed):
    rnd = random.Random(seed)
    departments = [_department(rnd, n) for n in range(rnd.randint(0, 6))]
    expected, got = _frames_row_by_row(departments), build_frames(departments)
    for name in TABLES:
        assert got[name].schema == expected[name].schema, name
        assert got[name].equals(expected[name]), name



def test_a_value_that_fits_no_column_type_is_an_error_not_a_null():
    dept = Department("D1.xlsx", year=2022, dept_code="D1")
    dept.rows["projects"] = [{"project": "过大的金额", "budget_yuan": Decimal("1E+30")}]
    with pytest.raises(ValueError, match="projects.budget_yuan"):
        build_frames([dept])


# --- plain numbers --------------------------------------------------------------------------


@given(st.text(st.sampled_from("0123456789,.+- \u00a0１，e٣"), max_size=14))
def test_a_plain_number_reads_as_number_text_does(text):
    plain = _plain_decimal(text)
    if plain is not None:
        general = _text_decimal(text)
        assert general is not None and str(plain) == str(general)  # str: 1.50 is not 1.5


def test_plain_numbers_are_the_common_ones():
    assert [str(_plain_decimal(t)) for t in ("306.95", "-3", "1,234,567.5", ".5", "5.")] == \
        ["306.95", "-3", "1234567.5", "0.5", "5"]
    assert all(_plain_decimal(t) is None for t in ("12,34", "１２", "12万元", "1e3", " 1", "-", "", "٣"))


# --- cells ----------------------------------------------------------------------------------


def test_a_table_names_its_cells_as_cell_ref_does():
    columns = {c.key: i for i, c in enumerate(INDICATORS.columns)} | {"far": 16_383}
    table = Table(INDICATORS, "绩效指标", 2, columns, {})
    assert all(table.cell(row, key) == cell_ref(row, i) for key, i in columns.items() for row in (1, 37, 1_048_576))
