"""*Dump … rows here*: insert rows from the database into the document at the cursor (code
actions for the models the cursor names or the file imports, resolved lazily; the
``dumpscript.dumpModel`` and ``dumpscript.dumpModelHere`` commands)."""

from __future__ import annotations

import re
from typing import Any

from django.db import DatabaseError
from lsprotocol import types

from dumpscript import DumpOptions
from dumpscript.transforms import Source, insert_dump
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.documents import lines_of, to_offset
from dumpscript_lsp.features._common import (
    applied,
    argument,
    counts,
    describe,
    dump_options,
    failed,
    project_ready,
    resolved,
)
from dumpscript_lsp.features.checks import looks_like_script
from dumpscript_lsp.project import ProjectUnavailable

KIND = "refactor.dumpscript.dump"
MAX_MODEL_ACTIONS = 12

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")


def register(server: DumpscriptServer) -> None:
    server.add_code_actions(KIND, actions, resolve_name="dump", resolve=resolve)
    server.command("dumpscript.dumpModel")(cmd_dump_model)
    server.command("dumpscript.dumpModelHere")(cmd_dump_model_here)


def _words_at(source: Source, position: types.Position, encoding: str) -> list[str]:
    """The dotted word at the cursor (``testapp.Book``) and the name under it (``Author`` of
    ``Author.objects``)."""
    if position.line >= len(source.lines):
        return []
    line = source.lines[position.line]
    column = to_offset(source, position, encoding) - source.line_start(position.line + 1)
    for match in _WORD.finditer(line):
        if match.start() <= column <= match.end():
            words = [match.group()]
            offset = match.start()
            for part in match.group().split("."):
                if offset <= column <= offset + len(part) and part != words[0]:
                    words.append(part)
                offset += len(part) + 1
            return words
    return []


def _imported_models(source: Source) -> dict[str, str]:
    """The file's names for model classes → ``app.Model`` labels (Django thread; from the
    registry, nothing of the file is imported)."""
    from dumpscript.script.models import ModelNames

    names = ModelNames.of(source.module_statements())
    return {local: model._meta.label for local, model in names.classes.items()}


def _models_here(source: Source, words: list[str]) -> tuple[list[str], bool]:
    """The models to offer at the cursor: the one a word names, or those of the apps the file
    imports from (``True`` when a word named one). Django thread."""
    from django.apps import apps

    imported = _imported_models(source)
    for word in words:
        if word in imported:
            return [imported[word]], True
        if "." in word:
            try:
                model = apps.get_model(word)
            except (LookupError, ValueError):
                continue
            return [model._meta.label], True
    app_labels = sorted({label.split(".")[0] for label in imported.values()})
    labels = sorted(
        m._meta.label
        for app in app_labels
        for m in apps.get_app_config(app).get_models()
        if not m._meta.proxy and not m._meta.auto_created
    )
    return labels, False


def _title(label: str, count: int, limit: int) -> str:
    """``Dump Book rows here (2 rows + the rows they refer to)``: the rows of the model; the
    insertion's summary and the load then count every row, the referred ones and links too."""
    from django.apps import apps

    model = apps.get_model(label)
    rows = f"first {limit:,} of {count:,} rows" if count > limit else f"{count:,} row{'s' if count != 1 else ''}"
    refers = any(f.is_relation and f.concrete for f in model._meta.get_fields())
    return f"Dump {model.__name__} rows here ({rows}{' + the rows they refer to' if refers else ''})"


async def actions(
    ls: DumpscriptServer, params: types.CodeActionParams, source: Source, version: int | None
) -> list[types.CodeAction]:
    first, last = lines_of(params.range)
    if first != last:
        return []
    if not await project_ready(ls):
        return []
    position = params.range.start
    words = _words_at(source, position, ls.encoding)
    try:
        labels, named = await ls.django.run(_models_here, source, words)
        if not named and not looks_like_script(source.text):  # a view, a command: only on a model name
            return []
        found = await ls.django.run(counts, labels)
    except ProjectUnavailable:
        return []
    except DatabaseError as error:  # the database is down, say: explain once, offer no dump
        ls.tell_once(
            "database",
            f"dumpscript: cannot read the database ({describe(error)}); the Dump actions are off until it answers.",
        )
        return []
    line = _insertion_line(source, position.line + 1)
    if not named:  # the models of the apps the file imports: those that have rows
        labels = [label for label in labels if found[label]][:MAX_MODEL_ACTIONS]
    uri = params.text_document.uri
    return [
        types.CodeAction(
            title=_title(label, found[label], ls.row_limit),
            kind=KIND,
            data={"action": "dump", "uri": uri, "version": version, "line": line, "label": label},
        )
        for label in labels
    ]


def _insertion_line(source: Source, line: int) -> int:
    """The line to insert before for a cursor at ``line`` (1-based): that line; after it when
    it is a comment (``# testapp.Book rows``); after the statement the cursor is inside."""
    if line <= len(source.lines) and source.lines[line - 1].lstrip().startswith("#"):
        return line + 1
    start, end = source.statement_lines(line)
    return line if start >= line else end + 1


async def _change(
    ls: DumpscriptServer,
    uri: str,
    line: int | None,
    label: str,
    options: DumpOptions,
    progress_token: str | None = None,
) -> tuple[types.WorkspaceEdit, str]:
    source, version = ls.document(uri)
    text, name = source.text, source.name
    progress = await ls.start_progress(f"Dumping {label}", progress_token)
    try:
        change = await ls.django.run(
            lambda: insert_dump(text, label, line=line, options=options, name=name, progress=progress)
        )
    finally:
        if progress is not None:
            progress.end("done")
    return ls.workspace_edit(uri, version, ls.edits(source, change.edits)), change.summary


async def resolve(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    assert isinstance(data, dict)
    options = dump_options({}, limit=ls.row_limit)
    return await resolved(ls, action, lambda: _change(ls, data["uri"], data["line"], data["label"], options))


async def cmd_dump_model(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "line" (1-based; default: end of run()), "label", "progressToken"}`` and the
    selection (:func:`~dumpscript_lsp.features._common.dump_options`: ``limit``, ``filter``,
    ``anonymize``…): insert the rows into the document and apply the edit."""
    args = argument(arguments)

    async def edit() -> tuple[types.WorkspaceEdit, str]:
        options = dump_options(args, limit=ls.row_limit)
        return await _change(ls, args["uri"], args.get("line"), args["label"], options, args.get("progressToken"))

    return await applied(ls, edit)


async def cmd_dump_model_here(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "line"}``: ask which model (``window/showMessageRequest``), then dump it there."""
    args = argument(arguments)
    project = await ls.django.wait()
    if not project.ready:
        return failed(ls, ProjectUnavailable(project.describe()))
    source, _ = ls.document(args["uri"])
    labels, _ = await ls.django.run(_models_here, source, [])
    found = await ls.django.run(counts, labels or project.models)
    choices = [label for label in labels or project.models if found[label]][:MAX_MODEL_ACTIONS]
    answer = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message="dumpscript: dump the rows of which model here?",
            actions=[types.MessageActionItem(title=label) for label in choices],
        )
    )
    if answer is None:
        return {"applied": False, "summary": "cancelled"}
    return await cmd_dump_model(ls, {"uri": args["uri"], "line": args.get("line"), "label": answer.title})
