"""A script's text, its syntax tree and the text edits that change it.

Transforms read a script with :mod:`ast` (about ten times faster than LibCST on a large
script), find what they change, build the new code as LibCST nodes
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

_IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_]\w*(?!\w)(?!=(?!=))")
"""A word that may be a name: not an attribute (``.tags``), not a keyword argument (``name=``)."""
_NOT_CODE = re.compile(
    r"[rRbBuUfF]{0,2}(?:"
    + r'"""[\s\S]*?"""|'
    + r"'''[\s\S]*?'''|"
    + r'"(?:\\.|[^"\\\n])*"|'
    + r"'(?:\\.|[^'\\\n])*'"
    + r")|#[^\n]*"
)
"""String literals and comments: their words are not names."""
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*\s*=[^=]")
"""A module-level ``name = ...``."""
_NOT_AT_MODULE_LEVEL = frozenset(" \t\n\r#")


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
        """The syntax tree: of the whole text, or after :meth:`focus` of the lines it kept."""
        return self._parse(self.text)

    @property
    def whole_tree(self) -> ast.Module:
        """The syntax tree of the whole text (parsed again once after :meth:`focus`)."""
        if not self.focused:
            return self.tree
        whole: ast.Module | None = self.__dict__.get("_whole")
        if whole is None:
            whole = self.__dict__["_whole"] = self._parse(self.text)
        return whole

    focused = False  # tree holds only the lines focus() kept

    def _parse(self, text: str) -> ast.Module:
        try:
            return ast.parse(text, self.name)
        except SyntaxError as error:
            raise TransformError(f"{self.name}, line {error.lineno}: cannot parse the script: {error.msg}") from None
        except ValueError as error:  # NUL bytes
            raise TransformError(f"{self.name}: cannot parse the script: {error}") from None

    hidden: frozenset[str] = frozenset()
    """After :meth:`focus`: the identifier-like words of the lines the tree leaves out."""

    def focus(self, ranges: Iterable[tuple[int, int]], *, widen: bool = False) -> None:
        """Make :attr:`tree` hold only the statements that touch the line ranges (1-based,
        both included), with the headers of the blocks around them (``def run(...):``);
        every other line is parsed as a blank line, so line numbers and columns stay those of
        the text. With ``widen``, neighbouring statements that look like object blocks are
        kept too (a run around a cursor line). A region that does not parse on its own (an
        unusual layout) makes the whole text parsed instead: the result is the same, only
        slower. Cost: a scan of the kept lines and their surroundings, not of the script.
        """
        keep: set[int] = set()
        for first, last in ranges:
            keep |= self._window(first, last, widen)
        if len(keep) * 10 >= len(self.lines) * 7:  # most of the script: parse it all
            self.__dict__.pop("tree", None)
            self.hidden, self.focused = frozenset(), False
            return
        masked = "".join(line if number in keep else "\n" for number, line in enumerate(self.lines, start=1))
        try:
            tree = ast.parse(masked, self.name)
        except (SyntaxError, ValueError):
            self.__dict__.pop("tree", None)
            self.hidden, self.focused = frozenset(), False
            return
        self.__dict__["tree"] = tree
        self.focused = True
        hidden_text = "".join(line for number, line in enumerate(self.lines, start=1) if number not in keep)
        self.hidden = frozenset(_IDENTIFIER.findall(_NOT_CODE.sub(" ", hidden_text)))

    def statement_lines(self, line: int) -> tuple[int, int]:
        """First and last line of the statement that line ``line`` belongs to (found from the
        layout, without parsing); ``(line, line)`` for a blank line or a comment."""
        if not 1 <= line <= len(self.lines) or not _is_code(self.lines[line - 1]):
            return line, line
        _, body_indent, start = self._block_of(line)
        return start, self._statement_end(max(line, start), body_indent)

    def _block_of(self, line: int) -> tuple[int | None, int, int]:
        """For a line of code: the header of its block (None at module level), the block's
        indentation, and the first line of the statement it belongs to."""
        code = line
        while code > 1 and self._inside[code]:  # inside a statement: from where it starts
            code -= 1
        header = self._header(code)
        body_indent = 0
        if header is not None:
            following = next((n for n in range(header + 1, len(self.lines) + 1) if self._code(n)), code)
            body_indent = _indent(self.lines[following - 1])
        return header, body_indent, self._statement_start(code, body_indent, header)

    def module_imports(self) -> list[ast.Import | ast.ImportFrom]:
        """The module-level import statements, parsed on their own (not the whole script)."""
        return [s for s in self.module_statements() if isinstance(s, ast.Import | ast.ImportFrom)]

    def module_statements(self) -> list[ast.stmt]:
        """The module-level imports and ``name = ...`` assignments (where a dump binds model
        classes it cannot import by name, ``Poll = django.apps.apps.get_model(...)``), parsed
        on their own (not the whole script)."""
        cached: list[ast.stmt] | None = self.__dict__.get("_module_statements")
        if cached is not None:
            return cached
        keep: set[int] = set()
        for number, line in enumerate(self.lines, start=1):
            if line[:1] in _NOT_AT_MODULE_LEVEL:  # most lines of a script: indented, in run()
                continue
            if (line.startswith(("import ", "from ")) or _ASSIGNMENT.match(line)) and not self._inside[number]:
                keep |= set(range(number, self._statement_end(number, 0) + 1))
        masked = "".join(line if number in keep else "\n" for number, line in enumerate(self.lines, start=1))
        try:
            tree = ast.parse(masked, self.name)
        except (SyntaxError, ValueError):
            tree = self._parse(self.text)
        found: list[ast.stmt] = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom | ast.Assign)]
        self.__dict__["_module_statements"] = found
        return found

    def _window(self, first: int, last: int, widen: bool) -> set[int]:
        """Line numbers of the whole statements that touch lines ``first`` to ``last`` and of the
        headers of their blocks."""
        count = len(self.lines)
        first, last = max(1, first), min(last, count)
        code = next((n for n in range(first, last + 1) if _is_code(self.lines[n - 1])), None)
        if code is None:
            return set()
        header, body_indent, start = self._block_of(code)
        end = self._statement_end(max(last, start), body_indent)
        if widen:  # neighbours that create objects of the same class (or save them)
            shape = _callee(self.lines[start - 1])
            if shape is not None and shape.endswith(".save"):
                shape = ""  # learnt from the first neighbour
            if shape is not None:

                def same(line: int) -> bool:
                    nonlocal shape
                    callee = _callee(self.lines[line - 1])
                    if callee is None or _indent(self.lines[line - 1]) != body_indent:
                        return False
                    if callee.endswith(".save"):
                        return True
                    if not shape:
                        shape = callee
                    return callee == shape

                while start > (header or 0) + 1:
                    previous = start - 1
                    while previous > (header or 0) and not self._code(previous):
                        previous -= 1
                    if previous <= (header or 0):
                        break
                    candidate = self._statement_start(previous, body_indent, header)
                    if not same(candidate):
                        break
                    start = candidate
                while end < count:
                    following = end + 1
                    while following <= count and not self._code(following):
                        following += 1
                    if following > count or not same(following):
                        break
                    end = self._statement_end(following, body_indent)
        kept = set(range(start, end + 1))
        while header is not None:
            kept.add(header)
            header = self._header(header)
        return kept

    def _code(self, line: int) -> bool:
        """Line ``line`` holds code and starts outside any string, bracket or continuation."""
        return _is_code(self.lines[line - 1]) and not self._inside[line]

    @cached_property
    def _inside(self) -> bytearray:
        """``_inside[n]`` is 1 when line ``n`` starts inside a multi-line string, brackets or a
        backslash continuation: it cannot start a statement. One pass of a regular
        expression over the text (strings and comments are skipped whole)."""
        inside = bytearray(len(self.lines) + 2)
        text = self.text
        spans: list[tuple[int, int]] = []  # offsets of constructs that span lines
        depth = 0
        opened = 0
        for match in _TOKENS.finditer(text):
            kind = match.lastgroup
            if kind == "open":
                if depth == 0:
                    opened = match.start()
                depth += 1
            elif kind == "close":
                if depth == 1 and text.find("\n", opened, match.start()) != -1:
                    spans.append((opened, match.start()))
                depth = max(depth - 1, 0)
            elif kind != "comment" and text.find("\n", match.start(), match.end() - 1) != -1:
                spans.append((match.start(), match.end() - 1))  # a string or a continuation
        if depth:
            spans.append((opened, len(text)))
        for start, end in spans:
            for number in range(self.position(start)[0] + 2, self.position(end)[0] + 2):
                inside[number] = 1
        return inside

    def _header(self, line: int) -> int | None:
        """The nearest line above ``line``, less indented, whose code ends with ``:``."""
        cache: dict[int, int | None] = self.__dict__.setdefault("_headers", {})
        if line in cache:
            return cache[line]
        indent = _indent(self.lines[line - 1])
        found: int | None = None
        for number in range(line - 1, 0, -1):
            if not self._code(number):
                continue
            text = self.lines[number - 1]
            level = _indent(text)
            if level == indent and number in cache:  # a sibling: the same header
                found = cache[number]
                break
            if level < indent:
                if _code_part(text).endswith(":"):
                    found = number
                    break
                indent = level
        cache[line] = found
        return found

    def _statement_start(self, line: int, body_indent: int, header: int | None) -> int:
        number = line
        while number > (header or 0) + 1:
            text = self.lines[number - 1]
            if self._code(number) and _indent(text) == body_indent and not _CONTINUATION.match(text):
                break
            number -= 1
        return number

    def _statement_end(self, line: int, body_indent: int) -> int:
        number = line
        count = len(self.lines)
        while number < count:
            text = self.lines[number]  # the line after ``number``
            if self._code(number + 1) and (
                _indent(text) < body_indent or (_indent(text) == body_indent and not _CONTINUATION.match(text))
            ):
                break
            number += 1
        while number > line and not _is_code(self.lines[number - 1]):  # trailing blank lines
            number -= 1
        return number

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


_STRING = "|".join(
    [
        r'"""(?:\\[\s\S]|[^\\])*?"""',
        r"'''(?:\\[\s\S]|[^\\])*?'''",
        r'"(?:\\[\s\S]|[^"\\\n])*"',
        r"'(?:\\[\s\S]|[^'\\\n])*'",
    ]
)
_TOKENS = re.compile(
    r"(?P<comment>#[^\n]*)" + f"|(?P<string>{_STRING})" + r"|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<continuation>\\\n)"
)
"""Comments, strings (string prefixes do not change where a string ends), brackets and
backslash continuations: what decides whether a line can start a statement."""
_CONTINUATION = re.compile(r"[ \t]*(?:[)\]}]|(?:else|elif|except|finally)\b)")
"""A line at a body's indentation that continues the statement before it."""
_BLOCKISH = re.compile(r"[ \t]*(?:[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*)?([A-Za-z_][A-Za-z0-9_.]*)\(")
"""The first line of something that may be an object block (``x = Model(``, ``x.save(``)."""


def _callee(line: str) -> str | None:
    """``Model`` of ``x = Model(``, ``x.save`` of ``x.save(``; None for other lines."""
    match = _BLOCKISH.match(line)
    return match.group(1) if match else None


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _code_part(line: str) -> str:
    """The line without a trailing comment (a ``#`` inside a string may cut it short: then the
    line is not taken for a header, and at worst the region is parsed whole)."""
    return line.split("#", 1)[0].rstrip()


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


def overlaps(node: ast.stmt, first: int, last: int) -> bool:
    return node.lineno <= last and (node.end_lineno or node.lineno) >= first


def bodies(tree: ast.Module, first: int = 1, last: int = 10**9) -> Iterator[tuple[ast.AST, list[ast.stmt]]]:
    """The statement lists of ``tree`` whose owner overlaps lines ``first`` to ``last`` (all of
    them by default), with the node that owns each; only those statements are descended into."""
    work: list[tuple[ast.AST, list[ast.stmt]]] = [(tree, tree.body)]
    while work:
        owner, body = work.pop()
        yield owner, body
        for statement in body:
            if not overlaps(statement, first, last):
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
