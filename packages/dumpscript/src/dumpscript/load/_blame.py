"""Which object of a ``bulk_create([...])`` made the database refuse the batch: its own line in
the script, its field and value (as ``loaddata`` names ``pk=2``), not the ``bulk_create([`` line."""

from __future__ import annotations

import ast
import re
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models

__all__ = ["Culprit", "find_culprit"]

_NOT_NULL = (
    re.compile(r"NOT NULL constraint failed: [\w\"]+\.\"?(\w+)"),  # SQLite
    re.compile(r"null value in column \"(\w+)\""),  # PostgreSQL
    re.compile(r"Column '(\w+)' cannot be null"),  # MySQL
)
_TOO_LONG = re.compile(r"too long|Data too long", re.IGNORECASE)
_STATEMENT_LINES = 5_000
"""At most this many lines are read to find the end of the failing statement."""


@dataclass
class Culprit:
    """An object of a batch, the line that makes it, and what is wrong with it."""

    line: int
    label: str
    name: str
    reason: str

    def text(self) -> str:
        named = f" {self.name}" if self.name else ""
        return f"line {self.line}: {self.label}{named}: {self.reason}"


def _batch(error: BaseException) -> list[Any] | None:
    """The objects of the innermost ``bulk_create`` call the error went through."""
    objects = None
    tb: types.TracebackType | None = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "bulk_create" and isinstance(frame.f_locals.get("objs"), list):
            objects = frame.f_locals["objs"]
        tb = tb.tb_next
    return objects


def _bad(objects: list[Any], message: str) -> tuple[int, str] | None:
    """The index of the first object that has a value the database refuses, and why."""
    column = next((match.group(1) for pattern in _NOT_NULL if (match := pattern.search(message))), None)
    too_long = bool(_TOO_LONG.search(message))
    for index, obj in enumerate(objects):
        if not isinstance(obj, models.Model):
            continue
        for field in obj._meta.concrete_fields:
            value = getattr(obj, field.attname, None)
            if column is not None and field.column == column and value is None:
                return index, f"{field.name} is None, and the column is NOT NULL"
            max_length = getattr(field, "max_length", None)
            if too_long and isinstance(value, str) and max_length and len(value) > max_length:
                return index, f"{field.name} has {len(value)} characters, more than its max_length {max_length}"
    return None


def _statement(path: Path, line: int) -> ast.Call | None:
    """The call that starts at ``line`` of the script (the first statement there)."""
    text: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for number, source in enumerate(lines, 1):
            if number < line:
                continue
            text.append(source)
            if len(text) > _STATEMENT_LINES:
                return None
            if len(text) > 1 and not source.lstrip().startswith((")", "]")):
                continue  # a statement spread over lines ends on a closing bracket
            try:
                tree = ast.parse("".join(text).strip())
            except SyntaxError:
                continue
            node = tree.body[0] if tree.body else None
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                return node.value
            return None
    return None


def _binding_line(path: Path, name: str, before: int) -> int | None:
    """The last line before ``before`` that assigns ``name``."""
    assign = re.compile(rf"\s*{re.escape(name)}\s*=[^=]")
    found = None
    with path.open(encoding="utf-8") as lines:
        for number, source in enumerate(lines, 1):
            if number >= before:
                break
            if assign.match(source):
                found = number
    return found


def find_culprit(path: Path, error: BaseException) -> Culprit | None:
    """The object of the failing batch in the script at ``path`` that the database refused
    (a NOT NULL column left empty, a text longer than its column), or None."""
    objects = _batch(error)
    if not objects:
        return None
    bad = _bad(objects, " ".join(str(error).split()))
    if bad is None:
        return None
    index, reason = bad
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if Path(frame.filename) == path]
    if not frames or frames[-1].lineno is None:
        return None
    line = frames[-1].lineno
    obj = objects[index]
    label = obj._meta.label
    call = _statement(path, line)
    elements = call.args[0] if call is not None and call.args else None
    if isinstance(elements, ast.List) and index < len(elements.elts):
        element = elements.elts[index]
        if isinstance(element, ast.Name):
            return Culprit(_binding_line(path, element.id, line) or line, label, element.id, reason)
        return Culprit(line + element.lineno - 1, label, "", reason)
    return Culprit(line, label, f"(object {index + 1} of the batch)", reason)
