"""Work spread over worker processes: one pool per step, chunks in order; small batches stay in-process."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

from jixiao import parallel


def pids(items):
    return (os.getpid(), list(items))


def test_a_large_batch_goes_to_the_pool_in_chunks_and_keeps_the_order(monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    items = list(range(parallel.MIN_ITEMS))
    with parallel.pool_for("local", len(items)) as pool:
        large = parallel.map_chunks(pool, pids, items, chunk=40)
        assert len(multiprocessing.active_children()) == 2
    assert [len(chunk) for _, chunk in large] == [40, 40, 40, 30]
    assert [item for _, chunk in large for item in chunk] == items
    assert os.getpid() not in {pid for pid, _ in large}
    assert multiprocessing.active_children() == []  # the step's pool is gone with the step


def test_a_small_batch_or_one_core_stays_in_process(monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    with parallel.pool_for("local", 7) as pool:
        assert parallel.map_chunks(pool, pids, list(range(7))) == [(os.getpid(), list(range(7)))]
    monkeypatch.setenv("JIXIAO_WORKERS", "1")
    with parallel.pool_for("local", 200) as pool:
        assert parallel.map_chunks(pool, pids, list(range(200))) == [(os.getpid(), list(range(200)))]
        assert parallel.map_chunks(pool, pids, []) == []


_HOLDS_A_POOL = """
import multiprocessing, sys
from jixiao import parallel
if __name__ == "__main__":
    with parallel.pool_for("local", 400) as pool:
        parallel.map_chunks(pool, len, list(range(400)))
        print(*(p.pid for p in multiprocessing.active_children()), flush=True)
        sys.stdin.read()  # until killed
"""


def test_workers_leave_when_their_run_is_killed(tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    script = tmp_path / "holds_a_pool.py"
    script.write_text(_HOLDS_A_POOL, encoding="utf-8")
    run = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in run.stdout.readline().split()]
    assert len(workers) == 2 and run.pid not in workers
    run.kill()  # SIGKILL: no finally, no atexit
    run.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
    run.stdin.close()
    run.stdout.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of init that has exited but not been reaped yet is a zombie: gone for our purposes.
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
