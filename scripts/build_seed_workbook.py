"""Rebuild the bundled seed workbook (raw/2022/番禺区残联_2022.xlsx) from jixiao_synth.seed.SEED_BOOK.

Usage: python scripts/build_seed_workbook.py [output.xlsx]
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

from jixiao_synth.seed import SEED_BOOK  # noqa: E402
from jixiao_synth.workbook import write_workbook  # noqa: E402

DEFAULT_OUTPUT = ROOT / "raw" / "2022" / "番禺区残联_2022.xlsx"


def main(argv: list[str]) -> None:
    print(write_workbook(SEED_BOOK, Path(argv[0]) if argv else DEFAULT_OUTPUT))


if __name__ == "__main__":
    main(sys.argv[1:])
