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

from dumpscript.script.literals import NotALiteral, read_literal

__all__ = ["announced_rows"]

_COUNT_LINE = re.compile(r"^    ([\w.]+): (\d+)$", re.MULTILINE)
_ROWS = re.compile(r"^ROWS = \{.*?^(?:\}|.*\})$", re.MULTILINE | re.DOTALL)
_HEAD = 1 << 20
"""The docstring is read from at most this many bytes at the start of the file."""
_TAIL = 1 << 18
"""``ROWS`` is read from at most this many bytes at the end of the file."""


def announced_rows(path: Path) -> dict[str, int]:
    """Rows per model label that the script announces ({} for other scripts)."""
    try:
        with path.open("rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - _TAIL))
            tail = file.read().decode("utf-8", "replace")
            file.seek(0)
            head = file.read(_HEAD).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    except OSError:
        return {}
    recorded = _recorded(tail)
    if recorded is not None:
        return recorded
    if not head.startswith('"""'):
        return {}
    doc = head[3:].partition('"""')[0].partition("\n\nMatch ")[0]  # matched rows may insert nothing
    return {label: int(number) for label, number in _COUNT_LINE.findall(doc)}


def _recorded(tail: str) -> dict[str, int] | None:
    found = list(_ROWS.finditer(tail))
    if not found:
        return None
    try:
        statement = ast.parse(found[-1].group()).body[0]
        assert isinstance(statement, ast.Assign)
        value = read_literal(statement.value)
    except (SyntaxError, AssertionError, NotALiteral, IndexError):
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and type(v) is int for k, v in value.items()):
        return None
    return value
