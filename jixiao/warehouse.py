"""The DuckDB warehouse: connecting, the SQL layers, and replacing partitions.

DuckDB allows one writing process per file and fails at once when another
holds it, so `connect` waits (bounded) instead. A run replaces all of its
department-years in a single transaction: a reader sees the warehouse
before the run or after it, never half of it.
"""

from __future__ import annotations

import os
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
# Views over the materialized marts (year-over-year): created after the marts exist.
VIEW_LAYERS = (("views", "mart"),)
MATERIALIZED = {"marts": "mart", "audit": "audit"}


class WarehouseLocked(RuntimeError):
    pass


# DuckDB takes up to 80% of the machine's memory by default; past this bound it spills to
# disk (<warehouse>.tmp/) instead, so a province's load stays within the run's memory budget.
MEMORY_LIMIT = os.environ.get("JIXIAO_DUCKDB_MEMORY", "256MB")


@contextmanager
def connect(path: Path, *, read_only: bool = False, wait_seconds: float = 120.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; waits while another process holds the file's lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": MEMORY_LIMIT})
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
    """Bring the file to the latest schema: numbered migrations, then additive raw columns."""
    migrate(con, sql_dir)
    for name, schema in TABLES.items():
        columns = ", ".join(f"{quote(col)} {_column_type(t)}" for col, t in schema.items())
        con.execute(f"create table if not exists raw.{quote(name)} ({columns}, run_id VARCHAR)")
        present = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [name]).fetchall()}
        for col, dtype in schema.items():
            if col not in present:  # a column added to a sheet: older rows simply lack it
                con.execute(f"alter table raw.{quote(name)} add column {quote(col)} {_column_type(dtype)}")


def migrations(sql_dir: Path) -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted((sql_dir / "migrations").glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append((int(number), name, path))
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """0 for a new file; 1 for a file written before versions were recorded."""
    tables = {r[0] for r in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
    if "audit.schema_migrations" in tables:
        return con.execute("select coalesce(max(version), 1) from audit.schema_migrations").fetchone()[0]
    return 1 if "audit.runs" in tables else 0


def migrate(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> int:
    """Upgrade the file in place to the latest version and return it; a new file gets ddl.sql."""
    current = schema_version(con)
    steps = migrations(sql_dir)
    latest = max((n for n, _, _ in steps), default=1)
    con.execute("create schema if not exists audit")
    con.execute("create table if not exists audit.schema_migrations "
                "(version integer primary key, name varchar, applied_at timestamptz default now())")
    if current == 0:
        con.execute((sql_dir / "ddl.sql").read_text(encoding="utf-8"))
        con.execute("insert into audit.schema_migrations (version, name) values (?, 'ddl')", [latest])
        return latest
    for number, name, path in steps:
        if number > current:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("insert into audit.schema_migrations (version, name) values (?, ?)", [number, name])
    con.execute((sql_dir / "ddl.sql").read_text(encoding="utf-8"))
    return max(current, latest)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_models(sql_dir: Path, layers=LAYERS) -> list[tuple[str, str, str, str]]:
    """(layer, schema, name, sql) of every model, in dependency order, read from sql/."""
    models = {}
    for layer, schema in layers:
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


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    schema, _, name = relation.partition(".")
    return [tuple(r) for r in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name.strip('"')]).fetchall()]


def replace_partitions(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    *,
    partitions: pl.DataFrame,
    frames: dict[str, pl.DataFrame],
    rules: pl.DataFrame,
    run_id: str,
) -> None:
    """Swap in the given department-years, raw rows and marts alike, in one transaction.

    `frames` is emptied as its tables are inserted."""
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
            # Consumed: once in DuckDB, a province's rows are not held in Python as well.
            con.register("run_frame", frames.pop(name).to_arrow())
            # The frames may hold rejected departments too: only the run's partitions are loaded.
            con.execute(f"insert into raw.{quote(name)} by name select *, ? as run_id from run_frame where {in_run}",
                        [run_id])
            con.unregister("run_frame")
        for layer, schema, name, _sql in sql_models(sql_dir):
            if layer not in MATERIALIZED:
                continue
            target, source = f"{MATERIALIZED[layer]}.{quote(name)}", f"{schema}.{quote(name)}"
            if _columns(con, source) != _columns(con, target):
                # The model's columns changed (or the table is new): a mart is derived data, so it
                # is rebuilt whole from raw, which holds every department-year's last good rows.
                con.execute(f"create or replace table {target} as select * from {source}")
                continue
            con.execute(f"delete from {target} where {in_run}")
            con.execute(f"insert into {target} by name select * from {source} where {in_run}")
        for _layer, schema, name, sql in sql_models(sql_dir, VIEW_LAYERS):
            con.execute(f"create or replace view {schema}.{quote(name)} as\n{sql}")
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
