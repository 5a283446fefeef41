"""Reading a script: its layout, and its code compiled a piece at a time.

``run()``'s body is compiled in pieces of about :data:`CHUNK_LINES` lines, each with the
file's line numbers, so that memory stays flat however long the script is. Every piece is
compiled before any runs (the code objects wait in an unnamed temporary file, marshalled):
a piece that does not compile on its own is known before a row is written, and the script
is then compiled whole instead, never run twice.
"""

from __future__ import annotations

import marshal
import re
import tempfile
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import models

from dumpscript.errors import ScriptError


def read_whole(path: Path) -> types.CodeType:
    """The whole script compiled (a script that cannot be compiled in pieces)."""
    try:
        source = path.read_bytes()
    except OSError as error:
        raise ScriptError(f"Cannot read script {path}: {error.strerror or error}") from None
    try:
        return compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        raise ScriptError(f"Cannot read script {path}: {error.msg} at line {error.lineno}") from None
    except ValueError as error:  # null bytes
        raise ScriptError(f"Cannot read script {path}: {error}") from None


_RUN = re.compile(r"def run\((using(?:=[\w.]+)?)?\):[ \t]*(?:#.*)?\n?")
_STATEMENT = re.compile(r"    (?!(?:else|elif|except|finally)\b)[A-Za-z_#]")
"""A line where a piece of ``run()``'s body may start: a statement of the body itself."""
CHUNK_LINES = 5_000
"""About how many lines of ``run()`` are compiled at a time."""


class NotChunkable(Exception):
    """The script's ``run()`` cannot be run a piece at a time; compile it whole instead."""


@dataclass
class Layout:
    run_line: int  # 1-based line of ``def run(...):``
    tail_line: int  # first line after run()'s body (0 if none)
    takes_using: bool


def layout_of(path: Path) -> Layout | None:
    """Where ``run()`` starts and ends, from one pass over the lines (none kept in memory)."""
    run_line = tail_line = 0
    takes_using = False
    with path.open(encoding="utf-8", newline="") as lines:
        for number, line in enumerate(lines, 1):
            if not run_line:
                match = _RUN.fullmatch(line)
                if match:
                    run_line, takes_using = number, bool(match.group(1))
            elif line[:1] not in ("", " ", "\t", "\n", "\r", "#"):
                tail_line = number
                break
    return Layout(run_line, tail_line, takes_using) if run_line else None


def _compile_at(lines: list[str], first: int, path: Path, indented: bool = False) -> types.CodeType:
    """Compile ``lines`` (the file's lines from line ``first``) with the file's line numbers."""
    # a piece of run()'s body runs as top-level code, inside "if 1:" on the line before it
    text = ("if 1:\n" if indented else "") + "".join(lines)
    try:
        code = compile(text, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        raise NotChunkable from None
    return _shift(code, first - (2 if indented else 1))


def _shift(code: types.CodeType, lines: int) -> types.CodeType:
    """``code`` (and the functions in it) moved down by ``lines`` lines: cheaper than
    compiling that many newlines in front of each piece."""
    if not lines:
        return code
    consts = tuple(_shift(const, lines) if isinstance(const, types.CodeType) else const for const in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


class Compiled:
    """A script compiled in pieces: the code before and after ``run()``, and ``run()``'s body
    as code objects in an unnamed temporary file (gone when the load ends, however it ends)."""

    def __init__(self, head: types.CodeType, tail: types.CodeType | None, layout: Layout) -> None:
        self.head, self.tail, self.layout = head, tail, layout
        self.store: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())

    def add(self, code: types.CodeType) -> None:
        data = marshal.dumps(code)
        self.store.write(len(data).to_bytes(8, "little"))
        self.store.write(data)

    def body(self) -> Iterator[types.CodeType]:
        self.store.seek(0)
        while size := self.store.read(8):
            yield marshal.loads(self.store.read(int.from_bytes(size, "little")))

    def close(self) -> None:
        self.store.close()


def compile_pieces(path: Path, layout: Layout) -> Compiled:
    """Every piece of the script compiled, before any runs; :class:`NotChunkable` when a
    piece does not compile on its own (``return`` in the body, an unusual layout)."""
    with path.open(encoding="utf-8", newline="") as handle:
        head = [handle.readline() for _ in range(layout.run_line - 1)]
        head_code = _compile_at(head, 1, path)
        del head
        tail_code = None
        if layout.tail_line:
            with path.open(encoding="utf-8", newline="") as rest:
                for _ in range(layout.tail_line - 1):
                    rest.readline()
                tail_code = _compile_at(rest.readlines(), layout.tail_line, path)
        compiled = Compiled(head_code, tail_code, layout)
        try:
            handle.readline()  # def run(...):
            number = layout.run_line + 1
            piece: list[str] = []
            start = number
            while True:
                line = handle.readline()
                ends = not line or (layout.tail_line and number == layout.tail_line)
                if ends or (len(piece) >= CHUNK_LINES and _STATEMENT.match(line)):
                    if piece:
                        compiled.add(_compile_at(piece, start, path, indented=True))
                        piece = []
                    start = number
                    if ends:
                        break
                piece.append(line)
                number += 1
        except BaseException:
            compiled.close()
            raise
    return compiled


def run_compiled(compiled: Compiled, namespace: dict[str, Any], using: str) -> None:
    """Run the script like ``exec`` of the module then ``run(using)``: the body runs as
    top-level code in the module's namespace (its variables become module globals of this
    private module), a piece at a time, each dropped once it ran."""
    exec(compiled.head, namespace)
    if compiled.tail is not None:
        exec(compiled.tail, namespace)
    if compiled.layout.takes_using:
        namespace["using"] = using
    for code in compiled.body():
        exec(code, namespace)
        _drop_cached_relations(namespace, code.co_names)
        del code


def _drop_cached_relations(namespace: dict[str, Any], names: tuple[str, ...]) -> None:
    """Saved objects that a piece named drop their cached related objects (``book.author``
    keeps ``author_id``; Django reads the author again if the script asks for it): a
    script's variables then hold their rows, not a dictionary of links each."""
    for name in names:
        obj = namespace.get(name)
        if not isinstance(obj, models.Model) or obj._state.adding:
            continue
        cache = obj._state.__dict__.get("fields_cache")
        if not cache:
            continue
        for key, related in list(cache.items()):
            attname = _forward_attname(type(obj), key)
            if attname is None or related is None:
                continue
            if related.pk is not None and obj.__dict__.get(attname) == related.pk:
                del cache[key]
        if not cache:
            del obj._state.__dict__["fields_cache"]


_ATTNAMES: dict[tuple[type[models.Model], str], str | None] = {}


def _forward_attname(model: type[models.Model], name: str) -> str | None:
    """The column attribute of ``model``'s forward foreign key ``name`` (None otherwise)."""
    if (model, name) not in _ATTNAMES:
        try:
            field = model._meta.get_field(name)
        except Exception:
            field = None
        concrete = isinstance(field, models.ForeignKey) and field.concrete
        _ATTNAMES[(model, name)] = field.attname if concrete else None  # type: ignore[union-attr]
    return _ATTNAMES[(model, name)]
