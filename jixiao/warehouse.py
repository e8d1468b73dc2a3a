"""The DuckDB warehouse: connecting, the SQL layers, and replacing partitions.

DuckDB allows one writing process per file and fails at once when another
holds it, so `connect` waits (bounded) instead. A run replaces all of its
department-years in a single transaction: a reader sees the warehouse
before the run or after it, never half of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import polars as pl

from jixiao.frames import TABLES

LAYERS = (("staging", "staging"), ("intermediate", "intermediate"), ("marts", "build"), ("audit", "build"))
MATERIALIZED = {"marts": "mart", "audit": "audit"}


class WarehouseLocked(RuntimeError):
    pass


@contextmanager
def connect(path: Path, *, read_only: bool = False, wait_seconds: float = 120.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; waits while another process holds the file's lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                if "lock" in str(exc).lower():
                    raise WarehouseLocked(
                        f"warehouse {path} is held by another process for more than {wait_seconds:.0f} s: {exc}"
                    ) from exc
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        yield con
    finally:
        con.close()


_DUCKDB_TYPES = {pl.Int32: "INTEGER", pl.String: "VARCHAR", pl.Boolean: "BOOLEAN"}


def _column_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    return _DUCKDB_TYPES[dtype.base_type()]


def ensure_tables(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> None:
    con.execute((sql_dir / "ddl.sql").read_text(encoding="utf-8"))
    for name, schema in TABLES.items():
        columns = ", ".join(f"{quote(col)} {_column_type(t)}" for col, t in schema.items())
        con.execute(f"create table if not exists raw.{quote(name)} ({columns}, run_id VARCHAR)")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_models(sql_dir: Path) -> list[tuple[str, str, str, str]]:
    """(layer, schema, name, sql) of every model, in dependency order, read from sql/."""
    models = {}
    for layer, schema in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            models[f"{schema}.{path.stem}"] = (layer, schema, path.stem, path.read_text(encoding="utf-8"))
    graph = {
        key: {other for other in models if other != key and re.search(rf"\b{re.escape(other)}\b", sql)}
        for key, (_, _, _, sql) in models.items()
    }
    return [models[key] for key in TopologicalSorter(graph).static_order()]


def create_views(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> None:
    con.execute((sql_dir / "macros.sql").read_text(encoding="utf-8"))
    for _layer, schema, name, sql in sql_models(sql_dir):
        con.execute(f"create or replace view {schema}.{quote(name)} as\n{sql}")


def replace_partitions(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    *,
    partitions: pl.DataFrame,
    frames: dict[str, pl.DataFrame],
    rules: pl.DataFrame,
    run_id: str,
) -> None:
    """Swap in the given department-years, raw rows and marts alike, in one transaction."""
    con.execute("begin transaction")
    try:
        ensure_tables(con, sql_dir)
        con.register("run_rules", rules.to_arrow())
        con.execute("delete from config.score_rules")
        con.execute("insert into config.score_rules by name select * from run_rules")
        create_views(con, sql_dir)
        con.register("run_partitions", partitions.select("year", "dept_code").to_arrow())
        in_run = "(year, dept_code) in (select (year, dept_code) from run_partitions)"
        for name in TABLES:
            con.execute(f"delete from raw.{quote(name)} where {in_run}")
            con.register("run_frame", frames[name].to_arrow())
            con.execute(f"insert into raw.{quote(name)} by name select *, ? as run_id from run_frame", [run_id])
            con.unregister("run_frame")
        for layer, schema, name, _sql in sql_models(sql_dir):
            if layer not in MATERIALIZED:
                continue
            target = f"{MATERIALIZED[layer]}.{quote(name)}"
            con.execute(f"create table if not exists {target} as select * from {schema}.{quote(name)} limit 0")
            con.execute(f"delete from {target} where {in_run}")
            con.execute(f"insert into {target} by name select * from {schema}.{quote(name)} where {in_run}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for view in ("run_rules", "run_partitions", "run_frame"):
            try:
                con.unregister(view)
            except duckdb.Error:
                pass


def append(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    con.register("append_frame", frame.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from append_frame")
    finally:
        con.unregister("append_frame")
