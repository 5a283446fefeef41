"""*… and grow to N*: fold a run and grow it to N objects with made-up values (a code action
next to *Convert to generator loop*), grow a loop over captured rows (a code action there),
and the ``dumpscript.growLoop`` command. Needs the Django project (the fields' types)."""

from __future__ import annotations

import asyncio
import re
from functools import partial
from typing import Any

from lsprotocol import types

from dumpscript.script.walk import generated_after, loop_at, table_of
from dumpscript.transforms import Change, Source, TextEdit, TransformError, fold_loop, grow_loop
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.documents import lines_of
from dumpscript_lsp.features import fold
from dumpscript_lsp.features._common import applied, argument, project_ready, resolved

KIND = "refactor.rewrite.dumpscript.grow"
GROW_TO = 1000
"""The count the code actions offer (``growTo`` in the initialization options)."""


def register(server: DumpscriptServer) -> None:
    server.add_code_actions(KIND, actions, resolve_name="grow", resolve=resolve)
    server.command("dumpscript.growLoop")(cmd_grow)


def _count(ls: DumpscriptServer) -> int:
    count = ls.options.get("growTo")
    return count if isinstance(count, int) and count > 1 else GROW_TO


async def actions(
    ls: DumpscriptServer, params: types.CodeActionParams, source: Source, version: int | None
) -> list[types.CodeAction]:
    first, last = lines_of(params.range)
    if fold.find_run(source, first, last) is None and _table_loop(source, first) is None:
        return []
    if not await project_ready(ls):
        return []
    uri, count = params.text_document.uri, _count(ls)
    data = {"action": "grow", "uri": uri, "version": version, "first": first, "last": last, "count": count}
    run = fold.find_run(source, first, last)
    if run is not None:
        if not re.search(rf"^\s*from\s+\S+\s+import\b[^#\n]*\b{re.escape(run.model)}\b", source.text, re.M):
            return []  # its class is not imported: not a model the project can tell the fields of
        title = f"{fold.title(run)} and grow to {count:,} (made-up values)"
        return [await _maybe_resolved(ls, types.CodeAction(title=title, kind=KIND, data={**data, "fold": True}))]
    table = _table_loop(source, first)
    if table is None or table[1] >= count:
        return []
    title = f"Grow this loop to {count:,} objects (from {table[1]:,}, the new ones made up)"
    return [await _maybe_resolved(ls, types.CodeAction(title=title, kind=KIND, data={**data, "first": table[0]}))]


async def _maybe_resolved(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
    return action if ls.resolves_edits() else await resolve(ls, action)


def _table_loop(source: Source, line: int) -> tuple[int, int] | None:
    """``(line, objects)`` of the loop over a table of rows at ``line`` (with the generated loop
    after it, when it was grown), when there is one."""
    if not source.lines or not 1 <= line <= len(source.lines) or "for " not in source.text:
        return None
    try:
        source.focus([(line, line)])
        found = loop_at(source.tree, line)
        if found is None:
            return None
        source.focus([(found.lineno, (found.end_lineno or found.lineno) + 1)])  # and the statement after it
        loop = loop_at(source.tree, found.lineno)
    except TransformError:
        return None
    table = table_of(loop) if loop is not None else None
    if loop is None or table is None or not table.elts:
        return None
    grown = generated_after(source.tree, loop)  # range(captured, N) after it: N objects now
    made = grown.iter.args[-1].value if grown is not None else len(table.elts)  # type: ignore[attr-defined]
    return loop.lineno, made


def _grow(text: str, name: str, first: int, last: int, count: int, folding: bool) -> Change:
    """Fold the run in ``first``-``last`` first (``folding``), then grow the loop to ``count``."""
    if not folding:
        return grow_loop(text, first, count, name=name)
    folded = fold_loop(text, first, last, name=name)
    lines = folded.text.splitlines()
    loop = next(
        (n for n in range(folded.first_line, len(lines) + 1) if lines[n - 1].lstrip().startswith("for ")),
        folded.first_line,
    )
    grown = grow_loop(folded.text, loop, count, name=name)
    return Change(grown.text, (_whole(text, grown.text),), f"{folded.summary}; {grown.summary}", first, last)


def _whole(before: str, after: str) -> TextEdit:
    """One edit from ``before`` to ``after``: the span between their common ends."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return TextEdit(start, len(before) - end, after[start : len(after) - end])


async def resolve(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    assert isinstance(data, dict)
    first, last, count, folding = data["first"], data["last"], data["count"], bool(data.get("fold"))

    async def edit() -> tuple[types.WorkspaceEdit, str]:
        source, version = ls.document(data["uri"])
        text, name = source.text, source.name
        change = await ls.django.run(lambda: _grow(text, name, first, last, count, folding))
        return ls.workspace_edit(data["uri"], version, ls.edits(source, change.edits)), change.summary

    return await resolved(ls, action, edit)


async def cmd_grow(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "line", "count"}``: grow the loop at ``line`` (1-based) to ``count`` objects
    (a loop over captured rows keeps them and makes up the rest) and apply the edit."""
    args = argument(arguments)
    uri = args["uri"]

    async def edit() -> tuple[types.WorkspaceEdit, str]:
        source, version = ls.document(uri)
        project = await ls.django.wait()
        grow = partial(grow_loop, source.text, int(args["line"]), int(args["count"]), name=source.name)
        # A loop over captured rows needs the project (the fields' types); a range(N) loop does not.
        change = await (
            ls.django.run(grow) if project.ready else asyncio.get_running_loop().run_in_executor(None, grow)
        )
        return ls.workspace_edit(uri, version, ls.edits(source, change.edits)), change.summary

    return await applied(ls, edit)
