"""The warehouse's connections when a run's steps use them from several threads at once."""

import threading

import polars as pl

from jixiao.load.warehouse import connect


def test_connections_opened_and_closed_in_two_threads_keep_their_arrow_scans(tmp_path):
    # Without one-at-a-time opening and closing, this failed on every try (duckdb 2.0.1):
    # "Table Function with name python_arrow_scan does not exist".
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        con.execute("create table t (x integer)")
    errors = []

    def load(worker: int) -> None:
        try:
            for _ in range(100):
                with connect(path) as con:
                    con.register(f"frame_{worker}", pl.DataFrame({"x": [1, 2, 3]}).to_arrow())
                    con.execute(f"insert into t select * from frame_{worker}")
        except Exception as exc:  # reported below, with the thread's own message
            errors.append(repr(exc))

    threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with connect(path) as con:
        assert con.execute("select count(*) from t").fetchone() == (600,)
