"""The DuckDB warehouse: connecting, the SQL layers, and replacing partitions.

DuckDB allows one writing process per file and fails at once when another
holds it, so `connect` waits (bounded) instead. A run replaces all of its
department-years in a single transaction: a reader sees the warehouse
before the run or after it, never half of it.

A materialized model (sql/marts, sql/audit and what they read) must compute a
department-year's rows from that department-year's rows alone: a load evaluates
the models over its own department-years only. Logic across departments or
years belongs in a view of sql/views/ (like mart.department_yoy), which reads
the marts whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import polars as pl

from jixiao.load.staging import Staging

LAYERS = (("staging", "staging"), ("intermediate", "intermediate"), ("marts", "build"), ("audit", "build"))
# Views over the materialized marts (year-over-year): created after the marts exist.
VIEW_LAYERS = (("views", "mart"),)
MATERIALIZED = {"marts": "mart", "audit": "audit"}


class WarehouseLocked(RuntimeError):
    pass


class NewerWarehouse(RuntimeError):
    """The warehouse was written by a newer jixiao (a higher schema version): refused, never written."""


# DuckDB takes up to 80% of the machine's memory by default; past this bound it spills to
# disk (<warehouse>.tmp/) instead, so a province's load stays within the run's memory budget.
# Not lower: at 160 MB a province's load ran out of memory evaluating its models.
MEMORY_LIMIT = os.environ.get("JIXIAO_DUCKDB_MEMORY", "256MB")


@contextmanager
def connect(path: Path, *, read_only: bool = False, wait_seconds: float = 120.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; waits while another process holds the file's lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            with _INSTANCE:
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
        with _INSTANCE:
            con.close()


# A process's connections to one file share a database instance, made by the first to open and
# dropped by the last to close. Two threads doing that at once (the flow's steps run side by side)
# can leave it without the Python client's scans: "Table Function with name python_arrow_scan does
# not exist" on the next con.register (duckdb 2.0.1). Connections open and close one at a time.
_INSTANCE = threading.Lock()


_DUCKDB_TYPES = {pl.Int32: "INTEGER", pl.String: "VARCHAR", pl.Boolean: "BOOLEAN"}


def _column_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    return _DUCKDB_TYPES[dtype.base_type()]


def ensure_tables(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> None:
    """Bring the file to the latest schema: numbered migrations, then additive raw columns."""
    from jixiao.families import raw_tables  # the families' modules import this one

    migrate(con, sql_dir)
    tables = raw_tables()
    for name, schema in tables.items():
        columns = ", ".join(f"{quote(col)} {_column_type(t)}" for col, t in schema.items())
        con.execute(f"create table if not exists raw.{quote(name)} ({columns}, run_id VARCHAR)")
    present = dict(con.execute(
        "select table_name, list(column_name) from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'raw' group by all").fetchall())
    for name, schema in tables.items():
        for col, dtype in schema.items():
            if col not in present[name]:  # a column added to a sheet: older rows simply lack it
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
    if current > latest:
        # Written by a newer jixiao: its tables may mean what this code does not know; writing would corrupt them.
        raise NewerWarehouse(f"the warehouse is at schema version {current}, newer than this jixiao's {latest}: "
                             "upgrade jixiao before writing to it")
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


def has_tables(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    """Whether every one of these `schema.table` names exists (a fresh warehouse has no marts yet)."""
    present = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    return set(names) <= present


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_models(sql_dir: Path, layers=LAYERS) -> list[tuple[str, str, str, str]]:
    """(layer, schema, name, sql) of every model, in dependency order, read from sql/."""
    models = {}
    for layer, schema in layers:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            models[f"{schema}.{path.stem}"] = (layer, schema, path.stem, path.read_text(encoding="utf-8"))
    references = _names_pattern(models)
    graph = {key: set(references.findall(sql)) - {key} for key, (_, _, _, sql) in models.items()}
    return [models[key] for key in TopologicalSorter(graph).static_order()]


def _names_pattern(names) -> re.Pattern:
    """Finds any of these qualified names (`staging.stg_projects`) as a whole word."""
    return re.compile(r"\b(" + "|".join(re.escape(name) for name in names) + r")\b")


def create_views(con: duckdb.DuckDBPyConnection, sql_dir: Path, models=None) -> None:
    con.execute((sql_dir / "macros.sql").read_text(encoding="utf-8"))
    for _layer, schema, name, sql in models or sql_models(sql_dir):
        con.execute(f"create or replace view {schema}.{quote(name)} as\n{sql}")


def _views_fingerprint(sql_dir: Path, models, view_models) -> str:
    """A hash of the SQL the views are made of (macros included)."""
    digest = hashlib.sha256((sql_dir / "macros.sql").read_bytes())
    for _layer, schema, name, sql in models + view_models:
        digest.update(f"\0{schema}.{name}\0{sql}".encode())
    return digest.hexdigest()[:16]


def _views_current(con: duckdb.DuckDBPyConnection, fingerprint: str, count: int) -> bool:
    """Whether every view carries, as its comment, this fingerprint of the SQL it is made from: making
    twenty views again costs a small run as much as the rest of its load, so it is done only on a change."""
    return con.execute(
        "select count(*) from duckdb_views() where database_name = current_database() and comment = ?",
        [fingerprint]).fetchall()[0][0] == count


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The columns ("name type") of every relation of the schemas the marts are built from and into."""
    return dict(con.execute(
        "select table_schema || '.' || table_name, list(column_name || ' ' || data_type order by ordinal_position) "
        "from information_schema.columns where table_catalog = current_database() "
        "and table_schema in ('build', 'mart', 'audit') group by all").fetchall())


def _evaluate_in_temp(con: duckdb.DuckDBPyConnection, tables, models) -> list[str]:
    """Evaluate the models over the run's rows alone, staged in temp tables named as the raw tables;
    returns the statements that drop what it created.

    A model computed over all departments and then filtered to the run's costs a small rerun most
    of its load: DuckDB does not push the filter through the models' CTEs and windows. Every model
    is computed from its own department-year's rows (joins, groups and windows are by year and
    dept_code; cross-partition logic, like year over year, lives in the views of sql/views/), so the
    run's rows alone give the same rows. Each model becomes a temp view (an intermediate model, read
    by several, a temp table) under its bare name, so that a reference's implicit alias
    (`from staging.stg_projects` reads as `stg_projects`) is unchanged."""
    bare = list(tables) + [name for _, _, name, _ in models]
    if len(set(bare)) != len(bare):
        raise ValueError(f"raw tables and models must have distinct names to be evaluated in temp: {bare}")
    scoped = {f"raw.{name}": f"temp.main.{quote(name)}" for name in tables}
    scoped |= {f"{schema}.{name}": f"temp.main.{quote(name)}" for _, schema, name, _ in models}
    references = _names_pattern(scoped)
    drops = [f"drop table temp.main.{quote(name)}" for name in tables]
    for layer, _schema, name, sql in models:
        kind = "table" if layer == "intermediate" else "view"
        con.execute(f"create temp {kind} {quote(name)} as\n" + references.sub(lambda m: scoped[m[1]], sql))
        drops.append(f"drop {kind} temp.main.{quote(name)}")
    return drops[::-1]


def replace_partitions(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    *,
    family,
    partitions: pl.DataFrame,
    staging: Staging,
    rules: pl.DataFrame,
    run_id: str,
) -> None:
    """Swap in the given partitions of one form family (department-years, project-years), raw rows and
    marts alike, in one transaction.

    `family` gives the raw tables, the partition's columns and the folder of its SQL models within sql_dir
    (jixiao/families/). The marts' new rows are the models evaluated over these partitions' raw rows
    alone (_evaluate_in_temp); a mart whose columns changed is rebuilt whole. The raw rows are read
    from the run's `staging` (it may hold rejected inputs' rows too: only the partitions load)."""
    root = sql_dir / family.models
    models, view_models = sql_models(root), sql_models(root, VIEW_LAYERS)
    fingerprint = _views_fingerprint(sql_dir, models, view_models)
    key = ", ".join(family.partition)
    con.execute("begin transaction")
    try:
        ensure_tables(con, sql_dir)
        con.register("run_rules", rules.to_arrow())
        con.execute("delete from config.score_rules")
        con.execute("insert into config.score_rules by name select * from run_rules")
        views_current = _views_current(con, fingerprint, len(models) + len(view_models))
        made = [] if views_current else models
        if made:
            create_views(con, sql_dir, models)
        columns = _columns(con)
        marts = [(f"{MATERIALIZED[layer]}.{quote(name)}", f"{schema}.{quote(name)}", name,
                  # The model's columns changed (or the table is new): a mart is derived data, so it
                  # is rebuilt whole from raw, which holds every department-year's last good rows.
                  columns.get(f"{schema}.{name}") != columns.get(f"{MATERIALIZED[layer]}.{name}"))
                 for layer, schema, name, _sql in models if layer in MATERIALIZED]
        # The run's rows are staged for the models unless every mart is rebuilt anyway (a new warehouse).
        staged = not all(rebuild for *_, rebuild in marts)
        con.register("run_partitions", partitions.select(*family.partition).to_arrow())
        in_run = f"({key}) in (select ({key}) from run_partitions)"
        for name in family.tables:
            table = quote(name)
            con.execute(f"delete from raw.{table} where {in_run}")
            rows = f"select *, ? as run_id from {staging.relation(name)} where {in_run}"
            if staged:  # in temp first, in raw's own columns and types
                con.execute(f"create temp table {table} as select * from raw.{table} limit 0")
                con.execute(f"insert into temp.main.{table} by name {rows}", [run_id])
                con.execute(f"insert into raw.{table} select * from temp.main.{table}")
            else:
                con.execute(f"insert into raw.{table} by name {rows}", [run_id])
        drops = _evaluate_in_temp(con, family.tables, models) if staged else []
        for target, source, name, rebuild in marts:
            if rebuild:
                con.execute(f"create or replace table {target} as select * from {source}")
            else:
                con.execute(f"delete from {target} where {in_run}")
                con.execute(f"insert into {target} by name select * from temp.main.{quote(name)}")
        for drop in drops:
            con.execute(drop)
        # These views read the marts: created once the marts exist, again when one was rebuilt.
        if made or any(rebuild for *_, rebuild in marts):
            for _layer, schema, name, sql in view_models:
                con.execute(f"create or replace view {schema}.{quote(name)} as\n{sql}")
            made = made + view_models
        for _layer, schema, name, _sql in made:
            con.execute(f"comment on view {schema}.{quote(name)} is '{fingerprint}'")  # a hex digest
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for view in ("run_rules", "run_partitions"):
            with contextlib.suppress(duckdb.Error):
                con.unregister(view)


def append(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    con.register("append_frame", frame.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from append_frame")
    finally:
        con.unregister("append_frame")
