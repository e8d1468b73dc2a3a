"""Wall time of a one-year rerun of the bundled data: `jixiao run --year 2022`, as a user runs it.

Cases, each a fresh process timed from start to exit:

- ephemeral, first: no PREFECT_API_URL and a new PREFECT_HOME (Prefect creates and migrates its database);
- ephemeral: no PREFECT_API_URL, PREFECT_HOME already set up (the everyday default);
- local server: PREFECT_API_URL pointing at `prefect server start` on 127.0.0.1;
- local server, unchanged: the same without --force, so the run finds nothing new and skips;
- deployment (with --deployment): `prefect deployment run 'jixiao-nightly/nightly' --param year=2022 --watch`
  against `jixiao serve`, from the command to the run's end (the runner polls every
  PREFECT_RUNNER_POLL_FREQUENCY seconds, 10 by default).

Every case reruns into one warehouse with --force (a real rerun: the partitions are
replaced), in a scratch folder with its own PREFECT_HOME; ~/.prefect is not touched.

    python benchmarks/prefect_rerun.py [--runs 5] [--formats html] [--deployment]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict[str, str], expect: tuple[int, ...] = (0, 1)) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in expect:
        sys.exit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer within {seconds:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """End a process this script started, and its children, by its own group id."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def row(case: str, times: list[float]) -> str:
    if len(times) == 1:
        return f"| {case} | 1 | {times[0]:.2f} | |"
    return f"| {case} | {len(times)} | {statistics.median(times):.2f} | {min(times):.2f}–{max(times):.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", default="html", help="as for jixiao run --formats (default html)")
    parser.add_argument("--deployment", action="store_true", help="also time a deployment run against jixiao serve")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jixiao-bench-") as folder:
        measure(args, Path(folder))


def measure(args: argparse.Namespace, scratch: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(scratch / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    warehouse = scratch / "warehouse" / "jixiao.duckdb"
    run = [str(BIN / "jixiao"), "run", "--year", "2022", "--raw", str(ROOT / "raw"), "--warehouse", str(warehouse),
           "--out", str(scratch / "reports"), "--formats", args.formats]
    rows = []

    rows.append(row("ephemeral server, first run (new PREFECT_HOME)", [timed([*run, "--force"], env)]))
    rows.append(row("ephemeral server", [timed([*run, "--force"], env) for _ in range(args.runs)]))

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    serving = None
    try:
        startup = wait_for(f"{api}/health", 120)
        served = {**env, "PREFECT_API_URL": api}
        rows.append(row("local server", [timed([*run, "--force"], served) for _ in range(args.runs)]))
        rows.append(row("local server, inputs unchanged (skipped)", [timed(run, served) for _ in range(args.runs)]))
        if args.deployment:
            serving = subprocess.Popen(
                [str(BIN / "jixiao"), "serve", "--raw", str(ROOT / "raw"), "--warehouse", str(warehouse),
                 "--out", str(scratch / "reports")],
                env=served, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            wait_for(f"{api}/deployments/name/jixiao-nightly/nightly", 60)
            trigger = [str(BIN / "prefect"), "deployment", "run", "jixiao-nightly/nightly", "--param", "year=2022",
                       "--param", "force=true", "--param", f'formats={_formats_json(args.formats)}',
                       "--watch", "--watch-interval", "1"]
            rows.append(row("deployment run --param year=2022 (jixiao serve, default poll)",
                            [timed(trigger, served, expect=(0,)) for _ in range(args.runs)]))
    finally:
        if serving is not None:
            stop(serving)
        stop(server)

    print(f"jixiao run --year 2022 --force --formats {args.formats}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; local server started in {startup:.1f} s\n")
    print("| case | n | median s | range s |\n|---|---|---|---|")
    print("\n".join(rows))


def _formats_json(formats: str) -> str:
    words = ["html", "png", "xlsx", "docx"] if formats == "all" else [w for w in formats.split(",") if w != "none"]
    return "[" + ",".join(f'"{w}"' for w in words) + "]"


if __name__ == "__main__":
    main()
