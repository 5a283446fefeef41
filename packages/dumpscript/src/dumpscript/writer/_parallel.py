"""Two processes write a large script: a forked process writes the second half of the objects
(by weight) while this one writes the first, both reading the same snapshot of the database.
Its text is used when it succeeded and asked for the same import names this process gives
(else this process writes that half too): the script is the same byte for byte."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import libcst as cst
from django.db import connections, transaction

from dumpscript.script.imports import ImportSet
from dumpscript.script.layout import INDENT
from dumpscript.script.render import render_statement

Piece = cst.SimpleStatementLine | str


PARALLEL_ROWS = 20_000
"""Objects from which a dump is written by two processes (when its ``workers`` allow it)."""

_INHERITED: list[Any] = []
"""A forked process's copies of the parent's database connections: kept, never closed (that
would close the parent's session)."""


class Unit(NamedTuple):
    """A piece of the script's work: its weight (values to write), its model's label and rows
    (for the progress line), and what writes its statements."""

    weight: int
    label: str
    rows: int
    render: Callable[[], Iterable[Piece]]


class Child:
    """A forked process writing units of the script to a temporary file that has no name (no
    row data is left on disk whatever happens to either process); the import names it asked
    for go to a second one."""

    def __init__(self) -> None:
        self.pid = 0
        self.text = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed in discard)
        self.calls = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def result(self, imports: ImportSet) -> Iterator[str] | None:
        """The child's text, once it has exited successfully and its import names were asked
        for again here with the same answers; None otherwise (nothing changed here)."""
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        self.calls.seek(0)
        recorded = self.calls.read()
        if not recorded:
            return None
        calls = json.loads(recorded)
        saved = copy.deepcopy(imports.__dict__)
        for kind, args, answer in calls:
            got = (
                imports.module(*args)
                if kind == "module"
                else imports.name(args[0], args[1], late=args[2], alias_prefix=args[3])
            )
            if got != answer:
                imports.__dict__.clear()
                imports.__dict__.update(saved)
                return None
        return self._chunks()

    def _chunks(self) -> Iterator[str]:
        self.text.seek(0)
        while True:
            chunk = self.text.read(1 << 20)
            if not chunk:
                return
            yield chunk

    def discard(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0
        self.text.close()
        self.calls.close()


def _die_with_parent(parent: int) -> None:
    """In a forked process: be killed when the parent dies, even by ``kill -9`` (Linux), and
    stop at once if it is already gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def reconnect(using: str, snapshot_id: str | None) -> None:
    """In a forked process: a connection of its own, in a transaction that reads the parent's
    snapshot (PostgreSQL) or the same file (SQLite, which the parent's read lock keeps as is)."""
    connection = connections[using]
    _INHERITED.append(connection.connection)
    connection.connection = None
    connection.connect()
    transaction.atomic(using=using).__enter__()
    if snapshot_id is not None:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])


def record_imports(imports: Any, calls: list[list[Any]]) -> None:
    """Note every import name ``imports`` gives from now on, with its answer."""
    module, name = imports.module, imports.name

    def record_module(target: str) -> str:
        answer = module(target)
        calls.append(["module", [target], answer])
        return str(answer)

    def record_name(target: str, what: str, *, late: bool = False, alias_prefix: str = "") -> str:
        answer = name(target, what, late=late, alias_prefix=alias_prefix)
        calls.append(["name", [target, what, late, alias_prefix], answer])
        return str(answer)

    imports.module, imports.name = record_module, record_name


def can_fork(using: str, owns_snapshot: bool, objects: int) -> bool:
    """A second process can read what this one reads: a fork, no other thread, the dump's own
    snapshot (not a caller's transaction) of a database that another connection sees the
    same (PostgreSQL with an exported snapshot; SQLite in a file, not in WAL mode, where
    this process's read lock keeps writers out)."""
    if not hasattr(os, "fork") or threading.active_count() != 1 or not owns_snapshot:
        return False
    if objects < PARALLEL_ROWS:
        return False
    connection = connections[using]
    if connection.vendor == "postgresql":
        return True
    if connection.vendor != "sqlite" or connection.is_in_memory_db():  # type: ignore[attr-defined]
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (mode,) = cursor.fetchone()
    return str(mode).lower() != "wal"


def write_in_two(
    units: list[Unit], using: str, imports: ImportSet, advance: Callable[[str, int], None], quiet: Callable[[], None]
) -> Iterator[Piece]:
    """The pieces of ``units``, the second half (by weight) written by a forked process."""
    total = sum(unit.weight for unit in units)
    cut, done = len(units), 0
    for number, unit in enumerate(units):
        if done >= total / 2:
            cut = number
            break
        done += unit.weight
    child = fork(units[cut:], using, imports, quiet) if cut < len(units) else None
    try:
        for unit in units[:cut]:
            yield from unit.render()
        text = child.result(imports) if child is not None else None
        if text is None:
            for unit in units[cut:]:
                yield from unit.render()
        else:
            for unit in units[cut:]:
                advance(unit.label, unit.rows)
            yield from text
    finally:
        if child is not None:
            child.discard()


def fork(units: list[Unit], using: str, imports: ImportSet, quiet: Callable[[], None]) -> Child | None:
    """A forked process that writes ``units`` to a file (None if the fork failed)."""
    snapshot_id = None
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot_id,) = cursor.fetchone()
    child = Child()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        child.discard()
        return None
    if pid:
        child.pid = pid
        return child
    code = 1  # the child: write the units to the file, the imports asked for beside it
    connected = False
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _die_with_parent(parent)
        quiet()
        reconnect(using, snapshot_id)
        connected = True
        calls: list[list[Any]] = []
        record_imports(imports, calls)
        stream = child.text
        for unit in units:
            for piece in unit.render():
                stream.write(piece if isinstance(piece, str) else render_statement(piece, INDENT))
        stream.flush()
        child.calls.write(json.dumps(calls))
        child.calls.flush()
        code = 0
    finally:
        if connected:  # its own connection, not the parent's
            with contextlib.suppress(Exception):
                connections[using].close()
        os._exit(code)
