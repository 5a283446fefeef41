"""The public entry points: dump to a LibCST module, to text, or to a file."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import libcst as cst
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

from dumpscript import _selection
from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript.cst import ScriptBuilder
from dumpscript.cst._script import TextSink
from dumpscript.errors import DumpscriptError, OutputNameError, SelectionError
from dumpscript.graph import Graph
from dumpscript.naming import assign_names
from dumpscript.ordering import Section, order
from dumpscript.stream import StreamBuilder, StreamGraph


@dataclass(frozen=True)
class DumpOptions:
    """What to dump and how; the keyword arguments of ``manage.py dumpscript``."""

    using: str = DEFAULT_DB_ALIAS
    """Database alias to read from."""
    exclude: Sequence[str] = ()
    """App labels or ``app.Model`` labels to leave out of the selection."""
    keep_pks: bool = False
    """Write auto-increment primary keys too (by default they are left to the database)."""
    natural_foreign: bool = False
    """Look up objects outside the selection by natural key instead of including them."""
    use_default_manager: bool = False
    """Select rows through each model's default manager (as ``dumpdata`` does) instead of the
    base manager, so rows a custom default manager hides are left out."""
    pks: Sequence[Any] | None = None
    """Only these primary keys (with a single model label)."""
    lookups: dict[str, Sequence[str]] | None = None
    """``{"app.Model": ["field", ...]}``: objects of these models outside the selection are
    found by these fields when the script runs (``Model.objects.get(email=...)``), not created.
    The fields should be unique together and not relations."""
    save_each: bool = False
    """Save every object with ``obj.save(using=using)``, sending ``pre_save``/``post_save``,
    instead of one ``bulk_create`` per batch (much slower to load)."""
    limit: int | None = None
    """At most this many rows of each selected model (the first by primary key). Objects
    they point at are still included."""
    filter: dict[str, Any] | None = None
    """Field lookups that select the rows of the selected models, as for
    ``QuerySet.filter(**filter)`` (``{"question__startswith": "What"}``)."""
    workers: int | None = None
    """Processes that write a large script (from 20,000 objects): 2 lets a forked process
    write half of it, reading the same snapshot; 1 writes it in this process. Default: 2 on a
    machine with several cores. Dumps from a thread other than the main one, inside a
    caller's transaction, or of SQLite databases in memory or in WAL mode use one process."""
    all_fields: bool = False
    """Write every field. By default a field whose value is what the model sets when the
    argument is left out (``None`` for a nullable field, ``""`` for text, a constant
    ``default=``) is not written."""


def prepare(
    labels: tuple[str, ...], options: DumpOptions | None, progress: Progress = NO_PROGRESS
) -> tuple[ScriptBuilder, list[Section]]:
    """Read the rows and order them: a builder for the script, and its sections (the objects
    have no variable names yet: :func:`~dumpscript.naming.assign_names` gives them)."""
    options = options or DumpOptions()
    selected = _selection.resolve(labels, options.exclude)
    if options.pks is not None and (len(labels) != 1 or "." not in labels[0]):
        raise SelectionError("Primary keys can only be given with a single app.Model label")
    graph = Graph(
        selected,
        using=options.using,
        keep_pks=options.keep_pks,
        natural_foreign=options.natural_foreign,
        use_default_manager=options.use_default_manager,
        pks=list(options.pks) if options.pks is not None else None,
        limit=options.limit,
        filter=options.filter,
        lookups=_lookup_models(options.lookups or {}),
        progress=progress,
    )
    sections = order(graph.objects)
    builder = ScriptBuilder(
        sections,
        graph.m2m,
        fields=graph.fields,
        save_each=options.save_each,
        all_fields=options.all_fields,
        progress=progress,
    )
    return builder, sections


def _builder(labels: tuple[str, ...], options: DumpOptions | None, progress: Progress) -> ScriptBuilder:
    builder, sections = prepare(labels, options, progress)
    assign_names(sections)
    return builder


def _lookup_models(lookups: dict[str, Sequence[str]]) -> dict[type[models.Model], tuple[str, ...]]:
    result = {}
    for label, fields in lookups.items():
        (model,) = _selection.resolve([label]) if "." in label else (None,)
        if model is None:
            raise SelectionError(f"Cannot look up {label!r}: give an app.Model label")
        for name in fields:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                raise SelectionError(f"Cannot look up {label} by {name!r}: {label} has no field {name!r}") from None
            if field.is_relation:
                raise SelectionError(f"Cannot look up {label} by {name!r}: it is a relation")
        if not fields:
            raise SelectionError(f"Cannot look up {label}: name at least one field")
        result[model] = tuple(fields)
    return result


def dump_module(*labels: str, options: DumpOptions | None = None) -> cst.Module:
    """The script that recreates the rows of ``labels`` (``app`` or ``app.Model``) as a LibCST
    module, for tools that edit it further: :func:`dump_script`'s text, parsed."""
    return cst.parse_module(dump_script(*labels, options=options))


def dump_script(*labels: str, options: DumpOptions | None = None, progress: Progress = NO_PROGRESS) -> str:
    """The script text for ``labels``: the same text as ``dump_module(...).code``, written
    faster (the blocks of values are written as text, not built as nodes first)."""
    out = io.StringIO()
    write_stream(out, *labels, options=options, progress=progress)
    return out.getvalue()


def write_stream(
    out: TextSink, *labels: str, options: DumpOptions | None = None, progress: Progress = NO_PROGRESS
) -> int:
    """Write the script for ``labels`` to ``out`` in flat memory (:mod:`dumpscript.stream`);
    returns its number of lines."""
    options = options or DumpOptions()
    progress.start("reading")
    try:
        with snapshot(options.using) as owned:
            stream = _stream_builder(labels, options, progress)
            stream.owns_snapshot = owned
            stream.workers = options.workers if options.workers is not None else min(os.cpu_count() or 1, 2)
            return stream.write_text(out)
    finally:
        progress.finish()


@contextlib.contextmanager
def snapshot(using: str) -> Iterator[bool]:
    """Read every query of a dump from one snapshot of the database: a transaction (repeatable
    read on PostgreSQL, where each statement would otherwise see the latest commits), unless the
    caller is inside one already. Yields whether the transaction is the dump's own."""
    connection = connections[using]
    if connection.in_atomic_block:
        yield False
        return
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield True


def _stream_builder(labels: tuple[str, ...], options: DumpOptions, progress: Progress) -> StreamBuilder:
    """The builder of the flat-memory path."""
    selected = _selection.resolve(labels, options.exclude)
    if options.pks is not None and (len(labels) != 1 or "." not in labels[0]):
        raise SelectionError("Primary keys can only be given with a single app.Model label")
    graph = StreamGraph(
        selected,
        using=options.using,
        keep_pks=options.keep_pks,
        natural_foreign=options.natural_foreign,
        lookups=_lookup_models(options.lookups or {}),
        use_default_manager=options.use_default_manager,
        pks=list(options.pks) if options.pks is not None else None,
        limit=options.limit,
        filter=options.filter,
        progress=progress,
    )
    return StreamBuilder(graph, save_each=options.save_each, all_fields=options.all_fields, progress=progress)


def check_output_name(path: str | os.PathLike[str]) -> None:
    """Refuse a ``.py`` file name that would shadow an installed app or an importable module."""
    target = Path(path)
    if target.suffix != ".py" or not target.stem.isidentifier():
        return
    stem = target.stem
    for app_config in apps.get_app_configs():
        if stem in {app_config.label, app_config.name.split(".")[0], app_config.name.rsplit(".", 1)[-1]}:
            raise OutputNameError(
                f"Refusing to write {target.name}: the module name {stem!r} would shadow the installed app "
                f"{app_config.name!r} when the script is imported; choose another name, such as {stem}_data.py"
            )
    try:
        spec = importlib.util.find_spec(stem)
    except (ImportError, ValueError):
        spec = None
    origin = (
        Path(spec.origin).resolve() if spec is not None and spec.origin not in (None, "built-in", "frozen") else None
    )
    if stem in sys.stdlib_module_names or (spec is not None and origin != target.resolve()):
        raise OutputNameError(
            f"Refusing to write {target.name}: the module name {stem!r} would shadow the importable module "
            f"{stem!r}; choose another name, such as {stem}_data.py"
        )


def write_script(
    path: str | os.PathLike[str], *labels: str, options: DumpOptions | None = None, progress: Progress = NO_PROGRESS
) -> int:
    """Dump ``labels`` to ``path`` atomically: on any error no file is written or replaced.
    Returns the number of lines written."""
    target = Path(path)
    check_output_name(target)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise DumpscriptError(f"Cannot write {target}: directory {directory} does not exist")
    lines = 0

    def write(stream: TextIO) -> None:
        nonlocal lines
        lines = write_stream(stream, *labels, options=options, progress=progress)

    write_atomic(target, write)
    return lines


def write_atomic(target: Path, text: str | Callable[[TextIO], None]) -> None:
    """Write ``text`` (or what the function writes to the stream it is given) to ``target``
    through a temporary file beside it: on any error the target is left as it was."""
    directory = target.parent if str(target.parent) else Path(".")
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            if isinstance(text, str):
                stream.write(text)
            else:
                text(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
