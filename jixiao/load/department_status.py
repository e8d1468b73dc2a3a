"""audit.department_status: whether the marts hold a department's latest workbook.

A department whose new workbook is rejected keeps its last good data in the
marts (the run replaces only the department-years it loads). That data is
then older than what the department last handed in: this table says so, per
department-year, so nobody mistakes it for the current figures:

    select s.*, st.is_stale, st.stale_since
    from mart.department_summary s
    join audit.department_status st using (year, dept_code)

It lives in audit rather than as a column of mart.department_summary because
a rejected department's mart rows are, on purpose, never rewritten.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from jixiao.domain import Department
from jixiao.load.warehouse import has_tables
from jixiao.settings import sql_file


def _has_summary(con: duckdb.DuckDBPyConnection) -> bool:
    return has_tables(con, "mart.department_summary")


def run_statuses(con: duckdb.DuckDBPyConnection, year: int, departments: list[Department]) -> pl.DataFrame:
    """(year, dept_code, status, file) of each department a run read.

    A workbook too broken to name its 部门编码 is matched to the department whose
    data the marts hold from a file of the same name, if any."""
    by_file: dict[str, str] = {}
    if _has_summary(con) and any(d.dept_code is None for d in departments):
        by_file = dict(con.execute(
            "select src_file, dept_code from mart.department_summary where year = ?", [year]).fetchall())
    rows: dict[str, dict] = {}
    for dept in departments:
        code = dept.dept_code or by_file.get(dept.file)
        if code is None:
            continue  # nothing of it can be in the marts
        status = "rejected" if dept.has_errors else "loaded"
        if code not in rows or status == "loaded":
            rows[code] = {"year": year, "dept_code": code, "status": status, "file": dept.file}
    schema = {"year": pl.Int32, "dept_code": pl.String, "status": pl.String, "file": pl.String}
    return pl.DataFrame(list(rows.values()), schema=schema)


def record_department_status(con: duckdb.DuckDBPyConnection, year: int, departments: list[Department],
                             run_id: str, now: datetime) -> None:
    """Upsert the status of every department the run read; marks rejected ones stale when the
    marts still hold an earlier load of them."""
    statuses = run_statuses(con, year, departments)
    if statuses.height == 0:
        return
    summary = "mart.department_summary" if _has_summary(con) else (
        "(select null::integer as year, null::varchar as dept_code, null::varchar as run_id, "
        "null::varchar as src_file where false)")
    con.register("run_status", statuses.to_arrow())
    try:
        con.execute("begin transaction")
        con.execute(sql_file("queries/department_status_upsert.sql").format(summary=summary), {"run_id": run_id, "now": now})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("run_status")
