"""A script's text, its syntax tree and the text edits that change it.

Transforms read a script with :mod:`ast` (ten times faster than LibCST on a large script;
``shared/notes`` has the numbers), find what they change, build the new code as LibCST nodes
and splice its rendering into the original text, so every byte outside the changed region
stays as the person wrote it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from dumpscript.errors import TransformError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from ``start`` to ``end`` (character offsets) with ``text``.

    ``range`` gives the same span as 0-based ``(line, column)`` pairs in code points, what an
    editor (after converting columns to its own units) applies.
    """

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Change:
    """What a transform did: the new script text, the edits that make it, and a summary."""

    text: str
    edits: tuple[TextEdit, ...]
    summary: str
    first_line: int
    """First changed line of the original script (1-based)."""
    last_line: int


class Source:
    """A script's text with its :mod:`ast` tree (parsed on first use) and offset helpers."""

    def __init__(self, text: str, name: str = "<script>") -> None:
        self.text = text
        self.name = name
        self.lines = text.splitlines(keepends=True)
        starts = [0]
        for line in self.lines:
            starts.append(starts[-1] + len(line))
        self._starts = starts

    @cached_property
    def tree(self) -> ast.Module:
        try:
            return ast.parse(self.text, self.name)
        except SyntaxError as error:
            raise TransformError(f"{self.name}, line {error.lineno}: cannot parse the script: {error.msg}") from None
        except ValueError as error:  # NUL bytes
            raise TransformError(f"{self.name}: cannot parse the script: {error}") from None

    @cached_property
    def identifiers(self) -> frozenset[str]:
        """Every identifier-like word in the text (code, strings and comments): names that a
        new variable must not take."""
        return frozenset(_IDENTIFIER.findall(self.text))

    def offset(self, line: int, col_bytes: int) -> int:
        """Character offset of ``(line, UTF-8 byte column)`` as :mod:`ast` reports it."""
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        col = col_bytes if text.isascii() else len(text.encode("utf-8")[:col_bytes].decode("utf-8"))
        return self._starts[line - 1] + col

    def line_start(self, line: int) -> int:
        return self._starts[min(line, len(self._starts)) - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the end of ``line`` (its newline included)."""
        return self._starts[min(line, len(self._starts) - 1)]

    def span(self, node: ast.expr | ast.stmt) -> tuple[int, int]:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.expr | ast.stmt) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def indent_of(self, line: int) -> str:
        text = self.lines[line - 1]
        return text[: len(text) - len(text.lstrip(" \t"))]

    def position(self, offset: int) -> tuple[int, int]:
        """0-based ``(line, column)`` in code points of a character offset."""
        low, high = 0, len(self._starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self._starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low, offset - self._starts[low]

    def comments(self, start: int, end: int) -> list[str]:
        """The comments (``# ...``) in the text from ``start`` to ``end``, in order."""
        region = self.text[start:end]
        if "#" not in region:
            return []
        found = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(region).readline):
                if token.type == tokenize.COMMENT:
                    found.append(token.string)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            found = [line.strip() for line in region.splitlines() if line.strip().startswith("#")]
        return found

    def fresh_name(self, wanted: str, taken: Iterable[str] = ()) -> str:
        """``wanted``, or ``wanted_2``, ``wanted_3``…: a name the script does not use yet."""
        used = self.identifiers | set(taken)
        if wanted not in used:
            return wanted
        number = 2
        while f"{wanted}_{number}" in used:
            number += 1
        return f"{wanted}_{number}"


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """``text`` with non-overlapping ``edits`` applied."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    parts = []
    position = 0
    for edit in ordered:
        if edit.start < position:
            raise AssertionError(f"overlapping edits at offset {edit.start}")
        parts.append(text[position : edit.start])
        parts.append(edit.text)
        position = edit.end
    parts.append(text[position:])
    return "".join(parts)


def _overlaps(node: ast.stmt, first: int, last: int) -> bool:
    return node.lineno <= last and (node.end_lineno or node.lineno) >= first


def bodies(tree: ast.Module, first: int = 1, last: int = 10**9) -> Iterator[tuple[ast.AST, list[ast.stmt]]]:
    """The statement lists of ``tree`` whose owner overlaps lines ``first`` to ``last`` (all of
    them by default), with the node that owns each; only those statements are descended into."""
    work: list[tuple[ast.AST, list[ast.stmt]]] = [(tree, tree.body)]
    while work:
        owner, body = work.pop()
        yield owner, body
        for statement in body:
            if not _overlaps(statement, first, last):
                continue
            for attribute in ("body", "orelse", "finalbody"):
                value = getattr(statement, attribute, None)
                if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                    work.append((statement, value))
            if isinstance(statement, ast.Try):
                work.extend((handler, handler.body) for handler in statement.handlers)
            if isinstance(statement, ast.Match):
                work.extend((case, case.body) for case in statement.cases)


def parse_lines(value: str) -> tuple[int, int]:
    """``"10-80"`` or ``"12"`` → ``(10, 80)`` / ``(12, 12)``."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[-:,]\s*(\d+))?\s*", value)
    if not match:
        raise TransformError(f"Cannot read the line range {value!r}: write FIRST-LAST, such as 10-80")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first < 1 or last < first:
        raise TransformError(f"Cannot read the line range {value!r}: lines count from 1 and FIRST <= LAST")
    return first, last
