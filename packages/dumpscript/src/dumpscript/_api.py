"""The public entry points: dump to a LibCST module, to text, or to a file."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import libcst as cst
from django.apps import apps
from django.db import connections, transaction

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript.closure import SubsetPreview, close, preview
from dumpscript.errors import OutputNameError
from dumpscript.files import check_target, terminating_cleanly, write_atomic
from dumpscript.graph import Graph
from dumpscript.migrations import applied_leaves
from dumpscript.options import DumpOptions
from dumpscript.ordering import order
from dumpscript.plan import Plan, build_plan
from dumpscript.selection import Label, select, with_found_keys
from dumpscript.writer import RowFilter, ScriptWriter, TextSink


def plan_dump(labels: tuple[Label, ...], options: DumpOptions, progress: Progress = NO_PROGRESS) -> tuple[Graph, Plan]:
    """The stages before the writer: options → selection → closure → graph → ordering → plan."""
    selected = select(labels, options)
    # keys that no row has are said once the closure's rules are checked (their errors first)
    selection = with_found_keys(close(selected, options), options.using, selected.selected[0])
    graph = Graph(selection, using=options.using, keep_pks=options.keep_pks, progress=progress)
    matches = {model: selection.match_fields(model) for model in graph.by_model}
    return graph, build_plan(graph, order(graph), matches=matches, upsert=options.upsert, left_out=selection.left_out)


def row_filters(graph: Graph, options: DumpOptions) -> list[RowFilter]:
    """What changes the rows on their way to the script: the anonymiser of ``--anonymize``
    (it samples the rows of every model the script writes, selected or needed)."""
    if not options.anonymize:
        return []
    from dumpscript.generate import Anonymizer

    written = [model for model, objects in graph.by_model.items() if len(objects)]
    return [Anonymizer(written, options.using, strict=options.strict)]


def dump_module(*labels: Label, options: DumpOptions | None = None) -> cst.Module:
    """The script that recreates the rows of ``labels`` (``app``, ``app.Model`` or a queryset)
    as a LibCST module, for tools that edit it further: :func:`dump_script`'s text, parsed."""
    return cst.parse_module(dump_script(*labels, options=options))


def dump_script(*labels: Label, options: DumpOptions | None = None, progress: Progress = NO_PROGRESS) -> str:
    """The script text for ``labels`` (``app``, ``app.Model``, or a queryset: its rows and,
    unless ``options.dependents`` is False, the rows that belong to them): the same text as
    ``dump_module(...).code``, written faster (the blocks of values are written as text, not
    built as nodes first)."""
    out = io.StringIO()
    write_stream(out, *labels, options=options, progress=progress)
    return out.getvalue()


def _workers(options: DumpOptions) -> int:
    if options.anonymize:  # one process: the fake values stay unique across the whole dump
        return 1
    return options.workers if options.workers is not None else min(os.cpu_count() or 1, 2)


def write_stream(
    out: TextSink, *labels: Label, options: DumpOptions | None = None, progress: Progress = NO_PROGRESS
) -> int:
    """Write the script for ``labels`` to ``out`` in flat memory; returns its number of lines."""
    options = options or DumpOptions()
    progress.start("reading")
    try:
        with terminating_cleanly(), snapshot(options.using) as owned:
            graph, plan = plan_dump(labels, options, progress)
            created_apps = {span.model._meta.app_label for span in plan.spans}
            writer = ScriptWriter(
                graph,
                plan,
                filters=row_filters(graph, options),
                save_each=options.save_each,
                all_fields=options.all_fields,
                workers=_workers(options),
                owns_snapshot=owned,
                migrations=applied_leaves(options.using, created_apps),
                progress=progress,
            )
            return writer.write(out)
    finally:
        progress.finish()


def preview_subset(*labels: Label, options: DumpOptions | None = None) -> SubsetPreview:
    """What a dump of ``labels`` with ``options`` selects, without writing the script or reading
    the rows (key-only and count queries): each selected model, the rows the closure adds
    through each reverse relation, and the relations it does not follow with their row counts
    (``dumpscript --preview`` prints its :meth:`~SubsetPreview.text`)."""
    options = options or DumpOptions()
    with snapshot(options.using):
        return preview(select(labels, options), options)


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
    path: str | os.PathLike[str],
    *labels: Label,
    options: DumpOptions | None = None,
    progress: Progress = NO_PROGRESS,
    force: bool = False,
) -> int:
    """Dump ``labels`` to ``path`` atomically: on any error no file is written or replaced.
    An existing file is replaced only when dumpscript wrote it, or with ``force``
    (:mod:`dumpscript.files`). Returns the number of lines written."""
    target = check_target(path, force=force)
    check_output_name(path)
    lines = 0

    def write(stream: TextIO) -> None:
        nonlocal lines
        lines = write_stream(stream, *labels, options=options, progress=progress)

    write_atomic(target, write, force=force, edit=False)
    return lines
