"""Open documents as :class:`dumpscript.transforms.Source` objects, and LSP positions.

A document's :class:`Source` is kept per version, so the scans it caches (which lines start
inside strings or brackets) are made once per edit, not once per request. LSP positions
count UTF-16 code units (or the encoding agreed with the client); the transforms count code
points: :func:`to_offset` and :func:`to_position` convert.
"""

from __future__ import annotations

from lsprotocol import types

from dumpscript.transforms import Source, TextEdit


class Documents:
    def __init__(self) -> None:
        self._sources: dict[str, tuple[int | None, str, Source]] = {}

    def source(self, uri: str, version: int | None, text: str) -> Source:
        cached = self._sources.get(uri)
        if cached is not None and cached[0] == version and cached[1] == text:
            return cached[2]
        source = Source(text, uri_to_name(uri))
        self._sources[uri] = (version, text, source)
        return source

    def forget(self, uri: str) -> None:
        self._sources.pop(uri, None)


def uri_to_name(uri: str) -> str:
    """A short name for messages: the file name of a ``file:`` URI."""
    return uri.rsplit("/", 1)[-1] or uri


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def _units_to_column(line: str, character: int, encoding: str) -> int:
    if line.isascii() or encoding == "utf-32":
        return min(character, len(line))
    units = 0
    for column, char in enumerate(line):
        if units >= character:
            return column
        units += _units(char, encoding)
    return len(line)


def _column_to_units(line: str, column: int, encoding: str) -> int:
    prefix = line[:column]
    if prefix.isascii() or encoding == "utf-32":
        return len(prefix)
    return sum(_units(char, encoding) for char in prefix)


def to_offset(source: Source, position: types.Position, encoding: str = "utf-16") -> int:
    """The character offset in ``source`` of an LSP position (columns in ``encoding``'s units,
    the position encoding agreed with the client: UTF-16 unless it asked for another)."""
    if position.line >= len(source.lines):
        return len(source.text)
    line = source.lines[position.line].rstrip("\r\n")
    return source.line_start(position.line + 1) + _units_to_column(line, position.character, encoding)


def to_position(source: Source, offset: int, encoding: str = "utf-16") -> types.Position:
    line, column = source.position(offset)
    text = source.lines[line] if line < len(source.lines) else ""
    return types.Position(line=line, character=_column_to_units(text, column, encoding))


def lsp_edits(
    source: Source, edits: tuple[TextEdit, ...] | list[TextEdit], encoding: str = "utf-16"
) -> list[types.TextEdit]:
    return [
        types.TextEdit(
            range=types.Range(
                start=to_position(source, edit.start, encoding), end=to_position(source, edit.end, encoding)
            ),
            new_text=edit.text,
        )
        for edit in edits
    ]


def lines_of(range_: types.Range) -> tuple[int, int]:
    """1-based first and last line that an LSP range (a selection or a cursor) covers."""
    first = range_.start.line + 1
    last = range_.end.line + 1
    if last > first and range_.end.character == 0:
        last -= 1  # a selection that ends at the start of a line does not include it
    return first, last
