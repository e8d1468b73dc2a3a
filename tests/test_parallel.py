"""Work spread over worker processes: a warm pool takes every batch, in order; without one, small
batches stay in-process."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

from jixiao import parallel


def pids(items):
    return (os.getpid(), list(items))


def test_a_warm_pool_takes_even_a_small_batch_and_keeps_the_order(monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    with parallel.warm_pool():
        small = parallel.each_chunk(pids, list(range(7)))
        later = parallel.start_chunks(pids, list(range(parallel.MIN_ITEMS)), chunk=40)
        large = later()
    # Two workers, one started ahead: a small batch is one chunk for it, a large one is in chunks for both.
    assert len(small) == 1 and small[0][1] == list(range(7)) and small[0][0] != os.getpid()
    assert [len(items) for _, items in large] == [40, 40, 40, 30]
    assert [item for _, items in large for item in items] == list(range(parallel.MIN_ITEMS))
    assert os.getpid() not in {pid for pid, _ in large}
    # The pool is gone once the run leaves it: a small batch is read in-process again.
    assert parallel._warm is None
    assert parallel.each_chunk(pids, [1, 2]) == [(os.getpid(), [1, 2])]


def test_the_pool_starts_one_worker_fewer_than_the_cores_until_filled(monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "2")
    with parallel.warm_pool():
        assert len(multiprocessing.active_children()) == 1
        parallel.fill_warm_pool()
        assert len(multiprocessing.active_children()) == 2
        # Now a small batch is shared by both.
        assert [len(items) for _, items in parallel.each_chunk(pids, list(range(7)))] == [4, 3]
    assert multiprocessing.active_children() == []


def test_one_worker_means_no_pool(monkeypatch):
    monkeypatch.setenv("JIXIAO_WORKERS", "1")
    with parallel.warm_pool():
        assert parallel._warm is None
        assert parallel.each_chunk(pids, list(range(200))) == [(os.getpid(), list(range(200)))]


_HOLDS_A_POOL = """
import multiprocessing, sys
from jixiao import parallel
if __name__ == "__main__":
    with parallel.warm_pool():
        parallel.fill_warm_pool()
        parallel.each_chunk(len, list(range(400)))
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
