"""Which years the nightly run picks, and when a workbook is settled enough to read.

Real workbooks in tmp_path, the ledger as the real flow writes it into a real DuckDB file.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time

import duckdb
import pytest

from jixiao.load.changes import InputsChanging, due_years, raw_years, settled_workbooks
from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import write_workbook
from tests.conftest import SEED_WORKBOOK


def seed_year(raw_dir, year: int):
    """The seed department's workbook for `year`."""
    book = dataclasses.replace(SEED_BOOK, info={**SEED_BOOK.info, "年度": year})
    return write_workbook(book, raw_dir / str(year) / f"区残联_{year}.xlsx")


def due(settings) -> dict[int, str]:
    return {d.year: d.reason for d in due_years(settings.raw_dir, settings.warehouse)}


def test_years_are_folders_holding_workbooks(raw_dir):
    seed_year(raw_dir, 2021)
    seed_year(raw_dir, 2022)
    (raw_dir / "2023").mkdir()  # no workbook yet
    (raw_dir / "2023" / "~$区残联_2023.xlsx").write_bytes(b"lock")  # Excel's lock file is not a workbook
    (raw_dir / "模板").mkdir()
    (raw_dir / "1999").mkdir()
    shutil.copy(SEED_WORKBOOK, raw_dir / "1999")
    assert raw_years(raw_dir) == [2021, 2022]


def test_every_year_is_due_without_a_warehouse_or_a_ledger(raw_dir, settings_for, tmp_path):
    seed_year(raw_dir, 2021)
    seed_year(raw_dir, 2022)
    settings = settings_for(raw_dir)
    assert due(settings) == {2021: "数据仓库中没有输入记录", 2022: "数据仓库中没有输入记录"}
    # a warehouse written before the ledger existed: runs, but no record of their inputs
    settings.warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema audit; create table audit.runs (run_id varchar, year integer, status varchar)")
    assert set(due(settings)) == {2021, 2022}


def run_html(settings):
    """The real year flow, drawing HTML only (pictures and documents have their own tests)."""
    from flows.year import run_year

    return run_year(settings.year, settings.raw_dir, settings.warehouse, settings.out_dir,
                    list(settings.departments) or None, formats=["html"])


@pytest.mark.slow
def test_a_year_is_due_until_a_full_run_read_its_workbooks(raw_dir, settings_for, prefect_server):
    seed_year(raw_dir, 2021)
    workbook = seed_year(raw_dir, 2022)
    settings = settings_for(raw_dir)
    run_html(dataclasses.replace(settings, departments=("PY-DPF",)))  # a --dept run proves nothing for the year
    assert due(settings) == {2021: "该年度尚未成功运行过", 2022: "该年度尚未成功运行过"}

    run_html(settings)
    assert due(settings) == {2021: "该年度尚未成功运行过"}

    os.utime(workbook, (time.time() + 60, time.time() + 60))  # touched, same bytes
    assert due(settings) == {2021: "该年度尚未成功运行过"}

    corrected = dataclasses.replace(SEED_BOOK, reported={**SEED_BOOK.reported, "项目支出总额（万元）": 3456.25})
    write_workbook(corrected, workbook)
    shutil.copy(workbook, raw_dir / "2022" / "教育局.xlsx")
    assert due(settings)[2022] == f"工作簿有变化：新增 教育局.xlsx，修改 {workbook.name}"

    (raw_dir / "2022" / "教育局.xlsx").unlink()
    write_workbook(SEED_BOOK, raw_dir / "2022" / "区残联.xlsx")
    workbook.unlink()
    assert due(settings)[2022] == f"工作簿有变化：新增 区残联.xlsx，移除 {workbook.name}"

    # only a finished run counts: one that failed proves nothing about the warehouse
    write_workbook(SEED_BOOK, workbook)
    (raw_dir / "2022" / "区残联.xlsx").unlink()
    assert 2022 not in due(settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update audit.runs set status = 'failed'")
    assert due(settings)[2022] == "该年度尚未成功运行过"


def test_a_settled_workbook_is_read_without_waiting(raw_dir):
    workbook = seed_year(raw_dir, 2022)
    time.sleep(0.3)
    started = time.monotonic()
    assert settled_workbooks(raw_dir / "2022", quiet_seconds=0.3) == [workbook]
    assert time.monotonic() - started < 0.1


def test_a_fresh_workbook_is_read_once_it_stays_unchanged(raw_dir):
    workbook = seed_year(raw_dir, 2022)
    assert settled_workbooks(raw_dir / "2022", quiet_seconds=0.3) == [workbook]
    written = workbook.stat()
    assert time.time() - max(written.st_mtime, written.st_ctime) >= 0.3 - 0.01  # waited for the quiet period


def test_a_workbook_still_being_copied_is_not_read(raw_dir):
    (raw_dir / "2022").mkdir()
    source = SEED_WORKBOOK.read_bytes()
    target = raw_dir / "2022" / "区残联_2022.xlsx"
    done = threading.Event()

    def copy_slowly():
        with target.open("wb") as out:
            for start in range(0, len(source), 1024):  # 15 KB over about half a second
                out.write(source[start:start + 1024])
                out.flush()
                time.sleep(0.03)
        done.set()

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    time.sleep(0.05)
    try:
        with pytest.raises(InputsChanging, match="区残联_2022.xlsx"):
            settled_workbooks(raw_dir / "2022", quiet_seconds=0.2)
    finally:
        writer.join()
    assert done.is_set()
    assert settled_workbooks(raw_dir / "2022", quiet_seconds=0.2) == [target]
