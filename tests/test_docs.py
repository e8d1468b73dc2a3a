"""The README and docs/ stay true: the `jixiao` commands and options they show exist, their relative
links resolve, their SQL parses, and the README stays short.

Commands are checked against each subcommand's real `--help`, run once per subcommand through the
installed `jixiao` entry point; SQL is parsed (not bound) by DuckDB's json_serialize_sql, so no
warehouse is built. The whole file takes a second or two.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


# --- reading markdown ------------------------------------------------------------------------------

FENCE = re.compile(r"^(?P<indent> {0,3}(?:[-*+] |\d+\. )?\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    info: str  # the fence's language word, lower case ('' when none)
    line: int  # 1-based line of the opening fence
    lines: tuple[str, ...]


def code_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a markdown text, indented ones (inside list items) included."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        info = opening["info"].strip().split(" ")[0].lower()
        body, j = [], i + 1
        while j < len(lines) and not re.fullmatch(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"code block opened on line {i + 1} is never closed")
        blocks.append(Block(info, i + 1, tuple(body)))
        i = j + 1
    return blocks


def prose(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the text outside fenced code blocks, with inline code spans removed."""
    inside = set()
    for block in code_blocks(text):
        inside.update(range(block.line, block.line + len(block.lines) + 2))
    return [(n, re.sub(r"(`+).*?\1", "", line)) for n, line in enumerate(text.splitlines(), 1) if n not in inside]


# --- commands --------------------------------------------------------------------------------------

# A command: `jixiao`, `$ jixiao` or a path to it (`.venv/bin/jixiao`), then its arguments.
COMMAND = re.compile(r"^(?:\$\s+)?(?:\S*/)?jixiao(?:\s+(?P<args>.*))?$")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Command:
    where: str  # page:line
    text: str
    subcommand: str | None  # None: options of `jixiao` itself
    options: tuple[str, ...]


def logical_lines(block: Block) -> list[tuple[int, str]]:
    """The block's lines with continuations joined: a trailing backslash, or an indented line right
    after a command (a usage synopsis wrapped over two lines)."""
    joined: list[tuple[int, str]] = []
    for offset, line in enumerate(block.lines, 1):
        if joined and (joined[-1][1].endswith("\\") or (line[:1].isspace() and line.strip()
                                                        and COMMAND.match(joined[-1][1].strip()))):
            number, previous = joined[-1]
            joined[-1] = (number, previous.rstrip("\\").rstrip() + " " + line.strip())
        else:
            joined.append((block.line + offset, line))
    return joined


def commands(text: str, page: str = "<text>") -> list[Command]:
    """Every `jixiao` command line in the text's code blocks, with the subcommand and options it names."""
    found = []
    for block in code_blocks(text):
        for number, line in logical_lines(block):
            line = re.sub(r"(^|\s)#.*$", "", line)  # a shell comment
            for segment in re.split(r"&&|\|\||;", line):
                match = COMMAND.match(segment.strip())
                if not match:
                    continue
                args = (match["args"] or "").split()
                subcommand = args[0] if args and not args[0].startswith("-") else None
                found.append(Command(f"{page}:{number}", segment.strip(), subcommand,
                                     tuple(OPTION.findall(" ".join(args)))))
    return found


def jixiao_argv() -> list[str]:
    """The installed entry point beside this interpreter, else the CLI module through it."""
    entry = Path(sys.executable).with_name("jixiao")
    return [str(entry)] if entry.exists() else [sys.executable, "-m", "jixiao.cli"]


@cache
def help_text(subcommand: str | None) -> tuple[int, str]:
    """(exit status, output) of `jixiao [subcommand] --help`, wide and without colour."""
    env = {**os.environ, "COLUMNS": "250", "TERM": "dumb", "NO_COLOR": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    argv = [*jixiao_argv(), *([subcommand] if subcommand else []), "--help"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    return done.returncode, done.stdout + done.stderr


def help_options(subcommand: str | None) -> set[str]:
    status, text = help_text(subcommand)
    assert status == 0, f"`jixiao {subcommand or ''} --help` failed ({status}):\n{text}"
    return set(OPTION.findall(text))


def problems(command: Command) -> list[str]:
    """What in the command the CLI does not have: an unknown subcommand, or options its --help lacks."""
    if command.subcommand is not None:
        status, text = help_text(command.subcommand)
        if status != 0:
            return [f"no subcommand {command.subcommand!r} (`jixiao {command.subcommand} --help` exits {status})"]
    known = help_options(command.subcommand)
    return [f"no option {option} in `jixiao {command.subcommand or ''} --help`"
            for option in command.options if option not in known]


def documented_commands() -> list[Command]:
    return [c for page in pages() for c in commands(page.read_text(encoding="utf-8"), page.relative_to(ROOT).as_posix())]


# --- links -----------------------------------------------------------------------------------------

LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\((?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+(?P<target>\S+)")


def relative_links(text: str) -> list[tuple[int, str]]:
    found = []
    for number, line in prose(text):
        targets = [m["target"] for m in LINK.finditer(line)] + [m["target"] for m in REFERENCE.finditer(line)]
        found.extend((number, t.strip("<>")) for t in targets
                     if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I))  # http:, mailto:, …
    return found


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    for _, line in prose_with_code_spans(text):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading[1].strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            seen[f"{slug}-{count}"] = 1
    return set(seen)


def prose_with_code_spans(text: str) -> list[tuple[int, str]]:
    inside = set()
    for block in code_blocks(text):
        inside.update(range(block.line, block.line + len(block.lines) + 2))
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if n not in inside]


def broken_links(page: Path, text: str | None = None) -> list[str]:
    text = page.read_text(encoding="utf-8") if text is None else text
    broken = []
    for number, target in relative_links(text):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{page.name}:{number}: {target} (no such file)")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{page.name}:{number}: {target} (no heading #{fragment} in {file.name})")
    return broken


# --- SQL -------------------------------------------------------------------------------------------

def sql_error(sql: str) -> str | None:
    """DuckDB's parse error for the statements, or None. Parsed only: no tables are needed."""
    result = json.loads(duckdb.connect().execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
    return f"{result.get('error_type')}: {result.get('error_message')}" if result.get("error") else None


def sql_blocks() -> list[tuple[str, str]]:
    return [(f"{page.relative_to(ROOT).as_posix()}:{block.line}", "\n".join(block.lines))
            for page in pages() for block in code_blocks(page.read_text(encoding="utf-8")) if block.info == "sql"]


# --- the tests -------------------------------------------------------------------------------------

def test_the_readme_is_at_most_250_lines():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move reference material into docs/"


def test_the_readme_shows_the_test_command_ci_runs():
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.lstrip().startswith("#")][-1].strip()
    shown = [line for block in code_blocks(README.read_text(encoding="utf-8")) for line in block.lines]
    assert ci in shown, f".ci/run runs {ci!r}, which README.md does not show in a code block"


def test_the_docs_show_commands_to_check():
    found = documented_commands()
    assert {c.subcommand for c in found} >= {"run", "serve", "synth"}, found
    assert any(c.where.startswith("README.md") and c.subcommand == "run" for c in found)


@pytest.mark.parametrize("command", documented_commands(), ids=lambda c: c.where)
def test_every_documented_command_and_option_exists(command: Command):
    assert not problems(command), f"{command.where}: {command.text}\n" + "\n".join(problems(command))


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path):
    assert not broken_links(page), "\n".join(broken_links(page))


def test_every_page_in_docs_is_linked_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve()
              for _, target in relative_links(README.read_text(encoding="utf-8"))}
    assert not [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]


def test_the_warehouse_page_has_sql_examples():
    assert any(where.startswith("docs/warehouse.md") for where, _ in sql_blocks())


@pytest.mark.parametrize("where, sql", sql_blocks(), ids=[where for where, _ in sql_blocks()])
def test_every_sql_example_parses(where: str, sql: str):
    assert sql_error(sql) is None, f"{where}: {sql_error(sql)}\n{sql}"


def test_the_checks_catch_what_they_should(tmp_path: Path):
    """The checkers themselves: each finds the fault it is for, so the tests above can fail."""
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A heading `code`\n", encoding="utf-8")
    text = "\n".join([
        "# Title", "", "[ok](there.md) [ok](there.md#a-heading-code) [gone](missing.md) [bad](there.md#nope)",
        "[web](https://example.org) `[code](nowhere.md)`", "",
        "```sh", "$ jixiao run --year 2022 --no-such-option  # a comment --not-an-option",
        ".venv/bin/jixiao no-such-command --help", "python3 -m venv .venv && .venv/bin/jixiao serve --cron x",
        "jixiao run --year YEAR", "           [--force] [--dept CODE]", "```",
        "", "```", "jixiao/     the package, not a command", "```",
    ])
    assert broken_links(page, text) == [
        "page.md:3: missing.md (no such file)", "page.md:3: there.md#nope (no heading #nope in there.md)"]

    found = commands(text)
    assert [(c.subcommand, c.options) for c in found] == [
        ("run", ("--year", "--no-such-option")), ("no-such-command", ("--help",)),
        ("serve", ("--cron",)), ("run", ("--year", "--force", "--dept"))]
    assert problems(found[0]) == ["no option --no-such-option in `jixiao run --help`"]
    assert problems(found[1])[0].startswith("no subcommand 'no-such-command'")
    assert problems(found[2]) == problems(found[3]) == []

    assert sql_error("select a from b where") is not None
    assert sql_error("select a from b where c = 1; select 2") is None
