"""What a generated script says about itself: the rows it creates per model (links included,
the rows it may match in the target apart), from its ``ROWS = {...}`` near the end, read
without running it; for a script written before dumpscript recorded ``ROWS``, from the count
lines of its docstring (``    polls.Poll: 3``). The one reader of them: the load's progress and
``replace``'s report both use it."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

from dumpscript.script.literals import NotALiteral, read_literal

__all__ = ["announced_rows", "recorded_migrations"]

_COUNT_LINE = re.compile(r"^    ([\w.]+): (\d+)$", re.MULTILINE)
_ROWS = re.compile(r"^ROWS = \{(?:[^\n]*\}|\n(?:    [^\n]*\n)*\})$", re.MULTILINE)
_MIGRATIONS = re.compile(r"^MIGRATIONS = \{(?:[^\n]*\}|\n(?:    [^\n]*\n)*\})$", re.MULTILINE)
"""``NAME = {...}`` on one line, or one entry a line (as the writer writes them)."""
_HEAD = 1 << 20
"""The docstring is read from at most this many bytes at the start of the file."""
_TAIL = 1 << 18
"""``ROWS`` is read from at most this many bytes at the end of the file."""


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - _TAIL))
            return file.read().decode("utf-8", "replace")
    except OSError:
        return ""


def recorded_migrations(path: Path) -> dict[str, list[str]] | None:
    """The migration state the script records (``MIGRATIONS = {"polls": ["0001_initial"]}``),
    read without running it; None for a script that records none (hand-written, or written
    before dumpscript recorded it)."""
    value = _recorded(_tail(path), _MIGRATIONS)
    if value is None or not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in value.values()):
        return None
    return value


def announced_rows(path: Path) -> dict[str, int]:
    """Rows per model label that the script announces ({} for other scripts)."""
    recorded = _recorded(_tail(path), _ROWS)
    if recorded is not None and all(type(v) is int for v in recorded.values()):
        return recorded
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    except OSError:
        return {}
    if not head.startswith('"""'):
        return {}
    doc = head[3:].partition('"""')[0].partition("\n\nMatch ")[0]  # matched rows may insert nothing
    return {label: int(number) for label, number in _COUNT_LINE.findall(doc)}


def _recorded(tail: str, pattern: re.Pattern[str]) -> dict[str, Any] | None:
    """The dictionary of the last ``NAME = {...}`` that ``pattern`` finds (its keys texts)."""
    found = list(pattern.finditer(tail))
    if not found:
        return None
    try:
        statement = ast.parse(found[-1].group()).body[0]
        assert isinstance(statement, ast.Assign)
        value = read_literal(statement.value)
    except (SyntaxError, AssertionError, NotALiteral, IndexError):
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        return None
    return value
