"""The reader alone, one process: milliseconds a workbook over a folder, and its whole output for comparing.

    python benchmarks/read_speed.py FOLDER [--dump DIR] [--compare DIR] [--year 2022]

Reads every input of FOLDER (e.g. a `jixiao synth` year folder) with
read_department, as a reading process does, and prints wall and CPU
milliseconds a workbook. With --dump, writes what the reader produced: the
frames build_frames makes (Arrow) and every department's facts, findings and
quarantined rows (facts.txt). With --compare, says whether this run's output
equals an earlier dump: a change meant only to make reading faster must leave
it identical.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from jixiao.ingest.extract import read_department
from jixiao.ingest.frames import build_frames
from jixiao.ingest.read import department_inputs


def dump(departments, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in build_frames(departments).items():
        frame.write_ipc(folder / f"{name}.arrow")
    facts = [repr({k: v for k, v in vars(d).items() if k != "rows"}) for d in departments]
    (folder / "facts.txt").write_text("\n".join(facts), encoding="utf-8")


def differences(new: Path, old: Path) -> list[str]:
    found = []
    for path in sorted(old.glob("*.arrow")):
        other = new / path.name
        a, b = pl.read_ipc(path), pl.read_ipc(other) if other.exists() else None
        if b is None or a.schema != b.schema or not a.equals(b):
            found.append(path.name)
    if (old / "facts.txt").read_bytes() != (new / "facts.txt").read_bytes():
        found.append("facts.txt")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--dump", type=Path, help="write the reader's output here")
    parser.add_argument("--compare", type=Path, help="an earlier --dump to compare this output with")
    args = parser.parse_args(argv)
    inputs = department_inputs(args.folder)
    if not inputs:
        print(f"no inputs in {args.folder}", file=sys.stderr)
        return 2
    wall, cpu = time.perf_counter(), time.process_time()
    departments = [read_department(path, args.year) for path in inputs]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(inputs)} inputs: {wall / len(inputs) * 1000:.2f} ms a workbook (wall), "
          f"{cpu / len(inputs) * 1000:.2f} ms (CPU)")
    if args.dump or args.compare:
        with tempfile.TemporaryDirectory() as tmp:
            target = args.dump or Path(tmp)
            dump(departments, target)
            if args.compare:
                diff = differences(target, args.compare)
                print("output identical to " + str(args.compare) if not diff else "output differs: " + ", ".join(diff))
                return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
