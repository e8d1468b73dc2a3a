"""pytest plugin: golden files in tests/golden/, rewritten only with `--update-golden`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current output instead of comparing against it",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def golden(request: pytest.FixtureRequest, update_golden: bool) -> Callable[[str, str], None]:
    """`golden(name, text)`: write tests/golden/<name> when updating, else compare with it."""
    command = f"python -m pytest {request.path.relative_to(request.config.rootpath)} --update-golden"

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update_golden:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Bytes, so the file is identical on every platform.
            path.write_bytes(text.encode("utf-8"))
            return
        if not path.exists():
            pytest.fail(f"golden file {path} is missing; create it with: {command}", pytrace=False)
        expected = path.read_bytes().decode("utf-8")
        if text != expected:
            diff = difflib.unified_diff(
                expected.splitlines(), text.splitlines(), f"golden/{name}", "output", lineterm="", n=1
            )
            shown = "\n".join(list(diff)[:40])
            pytest.fail(
                f"output differs from golden file {path}:\n{shown}\n"
                f"If the change is intended, review it and update the golden files with: {command}",
                pytrace=False,
            )

    return check
