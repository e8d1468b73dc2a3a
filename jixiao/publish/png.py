"""Tables as PNG pictures, drawn by headless Chromium through great-tables' `GT.gtsave`.

gtsave drives Chromium over CDP (the nokap package) and keeps one browser alive
per process, so a whole run's tables are drawn by one browser, closed at the end.
Chromium refuses to start as root without --no-sandbox and nokap passes no
flags of ours, so the browser is started through a two-line wrapper script named
in CHROME_PATH, the variable nokap reads. The pages are our own files, loaded
from disk with no network, which is why dropping the sandbox is acceptable here.

Chromium is a system package (`apt-get install chromium fonts-noto-cjk`): when
it is missing the pictures are skipped with one warning instead of failing the run.

Every picture is WIDTH pixels wide at DPI dots per inch (pHYs, written by Pillow):
16.6 cm, the text width of the report's A4 page, so a pasted table takes the
line's width at the size it was drawn, whichever table it is. Each table is laid
out at the same CSS width; a picture that still comes out wider (a table that
cannot wrap) is scaled down to fit, a narrower one padded with white.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from great_tables import GT
from PIL import Image

log = logging.getLogger(__name__)

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = "--no-sandbox --disable-dev-shm-usage"
# The tables are local pages with local fonts: nothing to wait for after the load event.
_DELAY = 0.05
DPI = 300
WIDTH = 1960  # pixels: 6.53 in at 300 dpi, the 16.6 cm of text on the report's page
_ZOOM = 2.5  # device pixels per CSS pixel: a table 764 CSS pixels wide, its 16 px text about 10 pt printed
_EXPAND = 10  # a white margin around the table, in CSS pixels
_TABLE_WIDTH = round(WIDTH / _ZOOM) - 2 * _EXPAND

MISSING_CHROMIUM = "未找到 Chromium，未生成 PNG 图片（安装：apt-get install chromium fonts-noto-cjk）"


def find_chromium() -> str | None:
    """The browser binary: CHROME_PATH when set, else the first on PATH."""
    given = os.environ.get("CHROME_PATH")
    if given and os.path.isfile(given):
        return given
    return next((path for name in _BROWSERS if (path := shutil.which(name))), None)


@contextmanager
def browser(binary: str) -> Iterator[None]:
    """nokap's browser, started through a wrapper adding our flags, and closed at the end.

    CHROME_PATH names the wrapper for the duration and is restored afterwards.
    """
    previous = os.environ.get("CHROME_PATH")
    with tempfile.TemporaryDirectory(prefix="jixiao-chromium-") as tmp:
        if sys.platform.startswith("win"):
            os.environ["CHROME_PATH"] = binary
        else:
            wrapper = Path(tmp) / "chromium"
            # exec: the browser keeps the wrapper's pid, so closing it stops the browser itself.
            wrapper.write_text(f'#!/bin/sh\nexec "{binary}" {_FLAGS} "$@"\n', encoding="utf-8")
            wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
            os.environ["CHROME_PATH"] = str(wrapper)
        try:
            yield
        finally:
            import nokap

            nokap.close()
            if previous is None:
                os.environ.pop("CHROME_PATH", None)
            else:
                os.environ["CHROME_PATH"] = previous


def save_pngs(pictures: Sequence[tuple[GT, Path]]) -> tuple[list[Path], str | None]:
    """Draw every (table, path) with one browser; returns the files written and a warning, if any.

    Never raises for a missing or failing browser: the other formats of the run are
    worth more than the pictures, so a problem becomes the warning instead.
    """
    if not pictures:
        return [], None
    binary = find_chromium()
    if binary is None:
        log.warning(MISSING_CHROMIUM)
        return [], MISSING_CHROMIUM
    written: list[Path] = []
    try:
        with browser(binary):
            for gt, path in pictures:
                path.parent.mkdir(parents=True, exist_ok=True)
                gt.tab_options(table_width=f"{_TABLE_WIDTH}px").gtsave(
                    path, zoom=_ZOOM, delay=_DELAY, expand=_EXPAND, vwidth=_TABLE_WIDTH + 2 * _EXPAND + 40)
                fix_width(path)
                written.append(path)
    except Exception as exc:
        warning = f"Chromium 截图失败，已生成 {len(written)} 张 PNG，其余跳过：{type(exc).__name__}: {exc}"
        log.warning(warning)
        return written, warning
    return written, None


def fix_width(path: Path) -> None:
    """The picture at `path` made WIDTH pixels wide (padded with white, or scaled down) and marked DPI."""
    # Our own screenshot, not input: Pillow's guard against decompression bombs (89 million pixels) would
    # warn on a 500-row table's picture and refuse one twice that size, failing the run's other pictures.
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as shot:
            image = shot.convert("RGB")
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if image.width > WIDTH:
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.Resampling.LANCZOS)
    elif image.width < WIDTH:
        canvas = Image.new("RGB", (WIDTH, image.height), "white")
        canvas.paste(image, ((WIDTH - image.width) // 2, 0))
        image = canvas
    image.save(path, "PNG", dpi=(DPI, DPI), optimize=False)
