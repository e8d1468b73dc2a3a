"""jixiao at scale: N synthetic departments, timed side by side with the read floor and a pandas script.

    python benchmarks/scale.py [--sizes 100,1000,10000] [--keep DIR] [--seed 0] [--full-formats html]
    python benchmarks/scale.py --sizes 10000 --forms 100000 --measures floor,full,nightly \
        --full-formats none --nightly-formats none  # a province's year, without drawing

For each N it generates the set once (`jixiao synth`, kept in KEEP/sets/ for the
next run; with --forms F, F project forms beside the N department workbooks in
the same year folder), then times, each in its own process:

- read floor: fastexcel reading every sheet of every workbook, nothing else
  (python-calamine's to_python, the reader jixiao uses, alongside);
- data path: `jixiao run --formats none` (read, validate, load, marts, audit, export);
- full run: `jixiao run --formats FULL` (HTML by default: `all` adds pictures by
  Chromium, a few seconds a department);
- naive: benchmarks/naive_pandas.py, pandas + openpyxl, the same job unvalidated;
- nightly: after the full run, `mutate` 1% of the department workbooks and
  correct 1% of the workbooks of forms, then `jixiao run` the year again.

Every jixiao run goes to a Prefect server started here (unless PREFECT_API_URL
is set), so the server's start-up is not counted. Peak RSS is the measured
process's own high-water mark (VmHWM), and, sampled every 50 ms, that of it and
its worker processes together. Per-stage seconds come from
audit.run_stages. Prints markdown tables for the README and writes them, with
the raw figures as JSON, to benchmarks/results.md (--results) and KEEP/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
JIXIAO_BIN = BIN  # main() points it at jixiao_venv() unless --same-env
STAGES = ("read", "validate", "load", "validation_report", "render", "export")


@dataclass
class Measure:
    name: str
    seconds: float
    peak_rss_mib: float
    exit_code: int
    stages: dict[str, float] = field(default_factory=dict)
    note: str = ""
    tree_rss_mib: float = 0.0  # the process and its workers together, sampled every 50 ms


def _status_kib(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field_name):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """pid and its descendants (their reading and drawing workers)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


def run_process(name: str, argv: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> Measure:
    """Wall time and peak RSS of one command: its own high-water mark (VmHWM) and, sampled, that of it and its
    workers together.

    Not wait4's ru_maxrss: a child's starts at its parent's size when forked, and this process
    holds a province's plan of forms after generating it (3 GiB), which every measure then showed."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        own = together = 0
        while True:
            own = max(own, _status_kib(proc.pid, "VmHWM:"))
            together = max(together, sum(_status_kib(p, "VmRSS:") for p in _tree(proc.pid)))
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)  # the process group we started, by its id
                pid, status = os.waitpid(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        print(f"  ! {name} exited {proc.returncode}:\n{text[-3000:]}", file=sys.stderr)
    return Measure(name, seconds, own / 1024, proc.returncode, note=text[-2000:], tree_rss_mib=together / 1024)


# ---------------------------------------------------------------- the read floor (run as a subprocess)


def read_floor(year_dir: Path, reader: str) -> None:
    paths = sorted(year_dir.glob("*.xlsx"))
    cells = 0
    if reader == "fastexcel":
        import fastexcel

        for path in paths:
            book = fastexcel.read_excel(path)
            for name in book.sheet_names:
                sheet = book.load_sheet(name, header_row=None, dtypes="string")
                cells += sheet.height * sheet.width
    else:
        from python_calamine import CalamineWorkbook

        for path in paths:
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                rows = book.get_sheet_by_name(name).to_python()
                cells += sum(len(r) for r in rows)
    print(json.dumps({"workbooks": len(paths), "cells": cells}))


# ---------------------------------------------------------------- Prefect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_prefect(home: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            break
    stop_prefect(proc)
    raise RuntimeError(f"the Prefect server did not start; see {home / 'server.log'}")


def stop_prefect(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its uvicorn child: the group we started
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ---------------------------------------------------------------- one size


def run_stages(warehouse: Path) -> dict[str, float]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select stage, sum(seconds) from audit.run_stages where run_id = "
            "(select run_id from audit.runs order by started_at desc limit 1) group by stage"
        ).fetchall()
    return {stage: float(seconds) for stage, seconds in rows}


def jixiao_venv(keep: Path) -> Path:
    """A venv with jixiao installed as the README installs it (`pip install -e .`), made once and reused.

    jixiao is timed from here, not from the benchmark's own environment: that one
    holds pandas for the reference script, and pandera imports pandas whenever it
    is installed (about 0.6 s a process), which jixiao's own install does not."""
    venv = keep / "jixiao-venv"
    python = venv / "bin" / "python"
    if not (venv / "bin" / "jixiao").exists():
        print(f"installing jixiao into {venv} (pip install -e .) …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[dask]"], check=True)
    if subprocess.run([str(python), "-c", "import pandas"], capture_output=True).returncode == 0:
        print(f"  note: pandas is installed in {venv}; pandera will import it in every jixiao run", flush=True)
    return venv / "bin"


def jixiao_run(name: str, raw: Path, work: Path, year: int, formats: str, env: dict[str, str],
               timeout: float | None, *, fresh: bool = True, extra: tuple[str, ...] = ()) -> Measure:
    warehouse, out = work / "warehouse" / "jixiao.duckdb", work / "reports"
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    measure = run_process(name, [str(JIXIAO_BIN / "jixiao"), "run", "--year", str(year), "--raw", str(raw), "--warehouse",
                                 str(warehouse), "--out", str(out), "--formats", formats, *extra], env, timeout)
    if warehouse.exists() and measure.exit_code in (0, 1):
        measure.stages = run_stages(warehouse)
    return measure


def ensure_set(sets: Path, n: int, year: int, seed: int, broken_share: float, forms: int = 0) -> tuple[Path, float | None]:
    """The generated set for n departments and `forms` project forms (reused when an earlier run made it);
    seconds spent generating."""
    from jixiao_synth.project_forms import manifest_path, synth_project_forms
    from jixiao_synth.synth import MANIFEST, SynthManifest, synthesize

    folder = sets / (f"n{n}-seed{seed}-broken{broken_share}" + (f"-forms{forms}" if forms else ""))
    if (folder / MANIFEST).exists() and (not forms or manifest_path(folder, year).exists()):
        manifest = SynthManifest.load(folder)
        if manifest.departments == n and manifest.years == (year,) and not any(f.revisions for f in manifest.files):
            return folder, None
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    start = time.perf_counter()
    synthesize(folder, n, year, seed=seed, broken_share=broken_share)
    if forms:
        synth_project_forms(folder, year, forms, seed=seed, broken_share=broken_share, processes=os.cpu_count() or 1)
    return folder, time.perf_counter() - start


def bench_size(n: int, args, env: dict[str, str]) -> dict:
    from jixiao_synth.project_forms import correct_project_forms
    from jixiao_synth.synth import mutate

    print(f"\n== {n} departments" + (f" and {args.forms} project forms" if args.forms else ""), flush=True)
    set_dir, generated = ensure_set(args.keep / "sets", n, args.year, args.seed, args.broken_share, args.forms)
    inputs = sum(1 for _ in (set_dir / str(args.year)).glob("*.xlsx"))
    print(f"  set {set_dir} ({f'generated in {generated:.1f} s' if generated else 'cached'})", flush=True)
    year_dir = set_dir / str(args.year)
    work = args.keep / "runs" / (f"n{n}" + (f"-forms{args.forms}" if args.forms else ""))
    timeout = args.timeout
    measures: dict[str, Measure] = {}

    def show(m: Measure) -> None:
        print(f"  {m.name:<22} {m.seconds:9.2f} s  {inputs / m.seconds:8.1f} wb/s  {m.peak_rss_mib:8.0f} MiB"
              f"  exit {m.exit_code}", flush=True)

    wanted = set(args.measures.split(","))
    load_before = os.getloadavg()[0]
    for reader in ("fastexcel", "calamine") if "floor" in wanted else ():
        m = run_process(f"read floor ({reader})", [sys.executable, str(HERE / "scale.py"), "_floor", str(year_dir),
                                                   reader], env, timeout)
        measures[f"floor_{reader}"] = m
        show(m)
    if "data" in wanted:
        m = jixiao_run("jixiao data path", set_dir, work / "data", args.year, "none", env, timeout)
        measures["data"] = m
        show(m)
    # The full run reads a copy of the set: the nightly mutates it afterwards.
    raw = work / "full" / "raw"
    if "full" in wanted:
        shutil.rmtree(work / "full", ignore_errors=True)
        shutil.copytree(set_dir, raw)
        m = jixiao_run(f"jixiao full ({args.full_formats})", raw, work / "full" / "run", args.year, args.full_formats,
                       env, timeout)
        measures["full"] = m
        show(m)
    if "naive" in wanted:
        nv = work / "naive"
        shutil.rmtree(nv, ignore_errors=True)
        m = run_process("naive pandas+openpyxl", [sys.executable, str(HERE / "naive_pandas.py"), "--raw", str(set_dir),
                                                  "--year", str(args.year), "--out", str(nv / "reports"),
                                                  "--warehouse", str(nv / "naive.duckdb")], env, timeout)
        measures["naive"] = m
        show(m)
    if "dask" in wanted:
        dask_raw = work / "dask" / "raw"
        shutil.rmtree(work / "dask", ignore_errors=True)
        shutil.copytree(set_dir, dask_raw)
        m = jixiao_run(f"dask, 2 local workers ({args.full_formats})", dask_raw, work / "dask" / "run", args.year,
                       args.full_formats, env, timeout, extra=("--runner", "dask"))
        measures["dask"] = m
        show(m)
    changed = []
    if "nightly" in wanted and measures.get("full") and measures["full"].exit_code in (0, 1):
        changed = mutate(raw, args.nightly_share, args.year, seed=1)
        if args.forms:
            changed += [str(p) for p in correct_project_forms(raw, args.year, args.nightly_share, seed=args.seed,
                                                              broken_share=args.broken_share)]
        m = jixiao_run(f"nightly ({len(changed)} changed)", raw, work / "full" / "run", args.year, args.nightly_formats,
                       env, timeout, fresh=False)
        measures["nightly"] = m
        show(m)
    if not args.keep_runs:
        shutil.rmtree(work, ignore_errors=True)
    code = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=_checkout(JIXIAO_BIN) or ROOT,
                          capture_output=True, text=True).stdout
    return {"departments": n, "forms": args.forms, "workbooks": inputs, "generated_seconds": generated,
            "changed": len(changed), "code": code.strip() or None,
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "jixiao_env": "own venv" if JIXIAO_BIN != BIN else "benchmark's env",
            "measures": {k: asdict(v) for k, v in measures.items()}}


def _checkout(bin_dir: Path) -> Path | None:
    """The checkout a venv's editable jixiao comes from, for the code it ran (git describe)."""
    found = subprocess.run([str(bin_dir / "python"), "-c", "import jixiao, pathlib; print(pathlib.Path(jixiao.__file__).parent.parent)"],
                           capture_output=True, text=True)
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


# ---------------------------------------------------------------- report


def _ratio(a: dict | None, b: dict | None, *, share: bool = False) -> str:
    if not a or not b or a["exit_code"] not in (0, 1) or b["exit_code"] not in (0, 1):
        return "–"
    return f"{a['seconds'] / b['seconds']:.1%}" if share else f"{a['seconds'] / b['seconds']:.1f}×"


def _size(result: dict) -> str:
    forms = result.get("forms") or 0
    return f"{result['departments']:,}" + (f" + {forms:,} forms" if forms else "")


def markdown(results: list[dict], args) -> str:
    labels = {"floor_fastexcel": "read floor (fastexcel)", "floor_calamine": "read floor (python-calamine)",
              "data": "jixiao data path (`--formats none`)", "full": f"jixiao full run (`--formats {args.full_formats}`)",
              "naive": "pandas + openpyxl script", "nightly": f"jixiao nightly (`--formats {args.nightly_formats}`)",
              "dask": f"jixiao on a local two-worker Dask cluster (`--runner dask --formats {args.full_formats}`)"}
    times, ratios, stages = [], [], []
    for r in results:
        m, size, inputs = r["measures"], _size(r), r.get("workbooks", r["departments"])
        if r["generated_seconds"]:
            times.append(f"| {size} | generate (`jixiao synth`, 2 processes) | {r['generated_seconds']:.1f} | "
                         f"{inputs / r['generated_seconds']:.0f} | | |")
        for key, label in labels.items():
            if key in m:
                failed = "" if m[key]["exit_code"] in (0, 1) else f" (exit {m[key]['exit_code']})"
                label = f"{label}, {r['changed']} changed" if key == "nightly" else label
                together = m[key].get("tree_rss_mib") or 0
                times.append(f"| {size} | {label}{failed} | {m[key]['seconds']:.1f} | {inputs / m[key]['seconds']:.0f} | "
                             f"{m[key]['peak_rss_mib']:.0f} | {f'{together:.0f}' if together else '–'} |")
        if {"data", "full", "naive"} & set(m):
            floor = min((m[k] for k in ("floor_fastexcel", "floor_calamine") if k in m), key=lambda x: x["seconds"],
                        default=None)
            ratios.append(f"| {size} | {_ratio(m.get('naive'), m.get('data'))} | {_ratio(m.get('data'), floor)} | "
                          f"{_ratio(m.get('naive'), m.get('full'))} | {_ratio(m.get('nightly'), m.get('full'), share=True)} |")
        for key in ("data", "full", "nightly"):
            if m.get(key, {}).get("stages"):
                other = m[key]["seconds"] - sum(m[key]["stages"].values())
                stages.append(f"| {size} | {labels[key].split(' (')[0]} | "
                              + " | ".join(f"{m[key]['stages'][s]:.1f}" if s in m[key]["stages"] else "–" for s in STAGES)
                              + f" | {other:.1f} |")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({platform.machine()}), Python "
        f"{platform.python_version()}; {args.broken_share:.0%} of the workbooks broken; nightly: "
        f"{args.nightly_share:.0%} of the workbooks changed after the full run; each measure is its own process, "
        "jixiao against a running Prefect server, installed in "
        + " / ".join(sorted({r.get("jixiao_env", "benchmark's env") for r in results}))
        + " (own venv: `pip install -e .` as the README, without the benchmark's pandas). "
        + "Code (git describe) and load average (1 min) at the start and end "
        "of each size: " + "; ".join(f"{_size(r)}: {r.get('code') or '?'}, {r['load_average'][0]} → "
                                     f"{r['load_average'][1]}" for r in results) + ".",
        "", "| departments (+ project forms) | measure | seconds | workbooks/s | peak RSS (MiB) | with workers (MiB) |",
        "|---:|---|---:|---:|---:|---:|", *times,
    ]
    if ratios:
        lines += ["", "| departments | naive ÷ data path | data path ÷ read floor | naive ÷ full run | nightly ÷ full run |",
                  "|---:|---:|---:|---:|---:|", *ratios]
    if stages:
        lines += ["", ("Seconds per stage (audit.run_stages); *other* is the rest of the process: start-up, imports, "
                       "Prefect's task machinery, the run ledger."), "",
                  "| departments | run | " + " | ".join(STAGES) + " | other |", "|---:|---|" + "---:|" * (len(STAGES) + 1),
                  *stages]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_floor"]:
        read_floor(Path(argv[1]), argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated department counts")
    parser.add_argument("--keep", type=Path, default=ROOT / "warehouse" / "bench",
                        help="folder for the generated sets (reused between runs), the runs and the results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--forms", type=int, default=0,
                        help="project forms (项目支出绩效自评表) beside each size's departments: 100000 with --sizes 10000 "
                             "is a province's year")
    parser.add_argument("--broken-share", type=float, default=0.02)
    parser.add_argument("--full-formats", default="html", help="--formats of the full run and the nightly")
    parser.add_argument("--nightly-formats", default=None,
                        help="--formats of the nightly (default: the full run's); a province's full run drawn in "
                             "`none` and its nightly in `html` times the nightly's drawing without an hour of drawing first")
    parser.add_argument("--nightly-share", type=float, default=0.01)
    parser.add_argument("--measures", default="floor,data,full,naive,nightly",
                        help="which of floor,data,full,naive,nightly,dask to time")
    parser.add_argument("--jixiao-venv", type=Path, default=None,
                        help="time the jixiao installed in this venv (another checkout, say) instead of KEEP/jixiao-venv")
    parser.add_argument("--results", type=Path, default=HERE / "results.md",
                        help="where the tables are written (the raw figures go to KEEP/results.json)")
    parser.add_argument("--keep-runs", action="store_true", help="keep each run's warehouse and reports")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before a measured process is killed")
    parser.add_argument("--same-env", action="store_true",
                        help="time jixiao from this environment instead of KEEP/jixiao-venv (jixiao as installed)")
    parser.add_argument("--report-only", action="store_true", help="print the tables of KEEP/results.json, measure nothing")
    args = parser.parse_args(argv)
    args.keep = args.keep.resolve()
    args.nightly_formats = args.nightly_formats or args.full_formats
    sizes = [] if args.report_only else [int(s) for s in args.sizes.split(",") if s.strip()]
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    global JIXIAO_BIN
    if args.jixiao_venv:
        JIXIAO_BIN = args.jixiao_venv.resolve() / "bin"
    elif sizes and not args.same_env and {"data", "full", "nightly", "dask"} & set(args.measures.split(",")):
        JIXIAO_BIN = jixiao_venv(args.keep)
    server = None
    if sizes and not env.get("PREFECT_API_URL") and {"data", "full", "nightly", "dask"} & set(args.measures.split(",")):
        home = args.keep / "prefect-home"
        print(f"starting a Prefect server (PREFECT_HOME={home}) …", flush=True)
        server, url = start_prefect(home)
        env.update(PREFECT_API_URL=url, PREFECT_HOME=str(home))
    # Sizes measured by an earlier invocation with the same --keep stay in the table until measured again.
    saved = args.keep / "results.json"
    results = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else []
    try:
        for n in sizes:
            fresh = bench_size(n, args, env)
            same = (n, args.forms)
            results = sorted([r for r in results if (r["departments"], r.get("forms") or 0) != same] + [fresh],
                             key=lambda r: (r.get("forms") or 0, r["departments"]))
            report = markdown(results, args)
            args.results.write_text(report, encoding="utf-8")
            saved.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    finally:
        if server is not None:
            stop_prefect(server)
    print()
    print(markdown(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
