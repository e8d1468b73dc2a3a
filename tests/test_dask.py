"""The Dask runner: a local cluster of two workers gives the marts the local runner gives."""

from __future__ import annotations

import dataclasses

import pytest

from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import write_workbook
from tests.conftest import mart_checksum as checksum

pytestmark = pytest.mark.slow  # runs the real flow many times over; `-m "not slow"` leaves it out

pytest.importorskip("prefect_dask")

def test_a_dask_run_equals_a_local_run(raw_dir, settings_for, run_flow, tmp_path):
    for code in ("PY-A", "PY-B"):
        write_workbook(dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "部门编码": code}),
                       raw_dir / "2022" / f"{code}.xlsx")
    local = settings_for(raw_dir)
    assert run_flow(local).loaded == ("PY-A", "PY-B")

    from flows.year import with_dask

    on_dask = dataclasses.replace(local, warehouse=tmp_path / "dask" / "jixiao.duckdb", out_dir=tmp_path / "dask-out")
    summary = with_dask(workers=2)(2022, raw_dir, on_dask.warehouse, on_dask.out_dir, formats=["html"], runner="dask")
    assert summary.loaded == ("PY-A", "PY-B")
    assert checksum(on_dask) == checksum(local)
    assert (on_dask.out_dir / "2022" / "PY-B" / "index.html").is_file()
