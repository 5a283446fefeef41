"""*Convert to generator loop*: fold a run of similar object blocks into a ``for`` loop (a
code action, resolved lazily, and the ``dumpscript.foldLoop`` command). Needs no Django."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from dumpscript.transforms import Run, Source, TransformError, fold_loop, select_run
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.documents import lines_of
from dumpscript_lsp.features._common import applied, argument, resolved

KIND = "refactor.rewrite.dumpscript.fold"


def register(server: DumpscriptServer) -> None:
    server.add_code_actions(KIND, actions, resolve_name="fold", resolve=resolve)
    server.command("dumpscript.foldLoop")(cmd_fold)


async def actions(
    ls: DumpscriptServer, params: types.CodeActionParams, source: Source, version: int | None
) -> list[types.CodeAction]:
    first, last = lines_of(params.range)
    action = _action(source, params.text_document.uri, version, first, last)
    if action is None:
        return []
    if not ls.resolves_edits():
        action = await resolve(ls, action)
    return [action]


def find_run(source: Source, first: int, last: int) -> Run | None:
    """The run in lines ``first``-``last`` (a cursor line: the run around it), if any."""
    # A cursor that moves inside a run already found (same document version) asks nothing new.
    known: list[Run] = source.__dict__.setdefault("_lsp_runs", [])
    run = next(
        (r for r in known if first == last and any(b.first_line <= first <= b.last_line for b in r.blocks)), None
    )
    if run is None:
        try:
            source.focus([(first, last)], widen=first == last)
            run = select_run(source, first, last)
        except TransformError:
            return None
        if first == last:
            known.append(run)
    return run


def title(run: Run) -> str:
    return f"Convert to generator loop ({len(run.blocks)} {run.model} blocks)"


def _action(source: Source, uri: str, version: int | None, first: int, last: int) -> types.CodeAction | None:
    run = find_run(source, first, last)
    if run is None:
        return None
    return types.CodeAction(
        title=title(run),
        kind=KIND,
        data={"action": "fold", "uri": uri, "version": version, "first": first, "last": last},
    )


async def _edit(ls: DumpscriptServer, uri: str, first: int, last: int) -> tuple[types.WorkspaceEdit, str]:
    source, version = ls.document(uri)
    text, name = source.text, source.name
    loop = asyncio.get_running_loop()
    change = await loop.run_in_executor(None, lambda: fold_loop(text, first, last, name=name))
    return ls.workspace_edit(uri, version, ls.edits(source, change.edits)), change.summary


async def resolve(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    assert isinstance(data, dict)
    return await resolved(ls, action, lambda: _edit(ls, data["uri"], data["first"], data["last"]))


async def cmd_fold(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "first", "last"}`` (1-based lines): fold the run there and apply the edit."""
    args = argument(arguments)
    first = int(args["first"])
    return await applied(ls, lambda: _edit(ls, args["uri"], first, int(args.get("last", first))))
