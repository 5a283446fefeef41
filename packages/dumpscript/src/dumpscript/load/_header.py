"""What a generated script says about itself: the rows it creates per model, from the count
lines of its docstring (``    polls.Poll: 3``; the rows it may match in the target apart).
The one reader of them: the load's progress and ``replace``'s report both use it."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["announced_rows"]

_COUNT_LINE = re.compile(r"^    ([\w.]+): (\d+)$", re.MULTILINE)
_HEAD = 1 << 20
"""The docstring is read from at most this many bytes at the start of the file."""


def announced_rows(path: Path) -> dict[str, int]:
    """Rows per model label that the script's docstring announces ({} for other scripts)."""
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    except OSError:
        return {}
    if not head.startswith('"""'):
        return {}
    doc = head[3:].partition('"""')[0].partition("\n\nMatch ")[0]  # matched rows may insert nothing
    return {label: int(number) for label, number in _COUNT_LINE.findall(doc)}
