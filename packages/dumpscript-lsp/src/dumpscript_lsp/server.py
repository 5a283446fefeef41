"""The language server: code actions, diagnostics and commands over the dumpscript core.

Transforms (folding loops) need only the document and work without Django. Everything that
reads the database runs in the :class:`~dumpscript_lsp.project.Django` thread; when the
project cannot be loaded the server says why once and keeps offering the transforms.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import DatabaseError
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from dumpscript._progress import Progress
from dumpscript.errors import DumpscriptError
from dumpscript.transforms import Run, Source, TextEdit, TransformError, fold_loop, select_run
from dumpscript_lsp import __version__, diagnostics
from dumpscript_lsp.documents import Documents, lines_of, lsp_edits, to_offset
from dumpscript_lsp.project import Django, ProjectUnavailable, find_project

logger = logging.getLogger(__name__)
EXPECTED = (DumpscriptError, ProjectUnavailable, DatabaseError)
"""Errors a command answers with a message (the server goes on)."""

FOLD_KIND = "refactor.rewrite.dumpscript.fold"
DUMP_KIND = "refactor.dumpscript.dump"
FIX_KIND = "quickfix.dumpscript"
DEFAULT_ROW_LIMIT = 1000
MAX_MODEL_ACTIONS = 12

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")


class DumpscriptServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dumpscript-lsp", __version__)
        self.documents = Documents()
        self.django = Django()
        self.options: dict[str, Any] = {}
        self.row_limit = DEFAULT_ROW_LIMIT
        self._diagnostics: dict[str, asyncio.Task[None]] = {}
        self._told: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------

    def document(self, uri: str) -> tuple[Source, int | None]:
        doc = self.workspace.get_text_document(uri)
        return self.documents.source(uri, doc.version, doc.source), doc.version

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client (``utf-16`` by default)."""
        return str(self.server_capabilities.position_encoding or "utf-16")

    def edits(self, source: Source, edits: tuple[TextEdit, ...]) -> list[types.TextEdit]:
        return lsp_edits(source, edits, self.encoding)

    def workspace_edit(self, uri: str, version: int | None, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        caps = self.client_capabilities.workspace
        if caps and caps.workspace_edit and caps.workspace_edit.document_changes:
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(identifier, edits)])  # type: ignore[list-item]
        return types.WorkspaceEdit(changes={uri: edits})

    def resolves_edits(self) -> bool:
        """The client fills in an action's edit with ``codeAction/resolve``."""
        document = self.client_capabilities.text_document
        support = document.code_action.resolve_support if document and document.code_action else None
        return support is not None and "edit" in support.properties

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def tell_once(self, key: str, message: str) -> None:
        """A warning shown once per server (a database that is down, say)."""
        if key not in self._told:
            self._told.add(key)
            self.tell(message, types.MessageType.Warning)

    async def start_progress(self, title: str) -> _LspProgress | None:
        """A work-done progress the server starts (when the client supports it)."""
        window = self.client_capabilities.window
        if not (window and window.work_done_progress):
            return None
        token = f"dumpscript-{uuid.uuid4()}"
        try:
            await self.work_done_progress.create_async(token)
        except Exception:  # the client refused: go on without
            return None
        self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, percentage=0, cancellable=False))
        return _LspProgress(self, token, asyncio.get_running_loop())


class _LspProgress(Progress):
    """dumpscript's row counter, reported as LSP work-done progress (from the Django thread)."""

    def __init__(self, ls: DumpscriptServer, token: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(enabled=True)
        self.ls, self.token, self.loop = ls, token, loop

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < 0.2:
            return
        self._drawn = now
        message = f"{self.phase} {self.label} {self.done:,}".strip() + " rows"
        percentage = min(99, 100 * self.done // self.total) if self.total else None
        report = types.WorkDoneProgressReport(message=message, percentage=percentage)
        self.loop.call_soon_threadsafe(self.ls.work_done_progress.report, self.token, report)

    def finish(self) -> None:
        pass

    def end(self, message: str) -> None:
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))


server = DumpscriptServer()


# -- lifecycle --------------------------------------------------------------------------------


@server.feature(types.INITIALIZE)
def on_initialize(ls: DumpscriptServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    ls.options = dict(options) if isinstance(options, dict) else {}
    limit = ls.options.get("rowLimit")
    if isinstance(limit, int) and limit > 0:
        ls.row_limit = limit


@server.feature(types.INITIALIZED)
async def on_initialized(ls: DumpscriptServer, params: types.InitializedParams) -> None:
    root = to_fs_path(ls.workspace.root_uri) if ls.workspace.root_uri else None
    project = find_project(Path(root) if root else None, ls.options)
    ls.django.load(project)
    project = await ls.django.wait()
    if project.ready:
        ls.window_log_message(types.LogMessageParams(types.MessageType.Info, f"dumpscript: {project.describe()}"))
    else:
        ls.tell(
            f"dumpscript: cannot load the Django project ({project.error}). The Dump actions and commands "
            "are off; Convert to generator loop still works. Set dumpscript's settingsModule or "
            "DJANGO_SETTINGS_MODULE, or open the folder that holds manage.py.",
            types.MessageType.Warning,
        )
    ls.protocol.notify("dumpscript/status", _status(ls))
    for uri in list(ls.workspace.text_documents):
        _schedule_diagnostics(ls, uri, delay=0)


def _status(ls: DumpscriptServer) -> dict[str, Any]:
    project = ls.django.project
    return {
        "ready": project.ready,
        "settingsModule": project.settings_module,
        "managePy": str(project.manage_py) if project.manage_py else None,
        "foundBy": project.source,
        "error": project.error,
        "models": len(project.models),
        "description": project.describe(),
    }


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DumpscriptServer, params: types.DidOpenTextDocumentParams) -> None:
    _schedule_diagnostics(ls, params.text_document.uri, delay=0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DumpscriptServer, params: types.DidChangeTextDocumentParams) -> None:
    _schedule_diagnostics(ls, params.text_document.uri, delay=0.4)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: DumpscriptServer, params: types.DidSaveTextDocumentParams) -> None:
    _schedule_diagnostics(ls, params.text_document.uri, delay=0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DumpscriptServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.forget(uri)
    task = ls._diagnostics.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _schedule_diagnostics(ls: DumpscriptServer, uri: str, delay: float) -> None:
    previous = ls._diagnostics.pop(uri, None)
    if previous is not None:
        previous.cancel()
    ls._diagnostics[uri] = asyncio.ensure_future(_publish_diagnostics(ls, uri, delay))


async def _publish_diagnostics(ls: DumpscriptServer, uri: str, delay: float) -> None:
    if delay:
        await asyncio.sleep(delay)
    project = await ls.django.wait()
    try:
        doc = ls.workspace.get_text_document(uri)
    except Exception:
        return
    text, version = doc.source, doc.version
    path = to_fs_path(uri) if uri.startswith("file:") else None
    loop = asyncio.get_running_loop()
    found = await loop.run_in_executor(None, diagnostics.check, text, path, project.ready)
    if ls._diagnostics.get(uri) is asyncio.current_task() or uri not in ls._diagnostics:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=version)
        )


# -- code actions -----------------------------------------------------------------------------


def _wants(only: Sequence[str] | None, kind: str) -> bool:
    return not only or any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[FOLD_KIND, DUMP_KIND, FIX_KIND], resolve_provider=True),
)
async def code_actions(ls: DumpscriptServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    source, version = ls.document(uri)
    first, last = lines_of(params.range)
    only = params.context.only
    actions: list[types.CodeAction] = []
    if _wants(only, FIX_KIND):
        actions += _quick_fixes(ls, uri, version, params.context.diagnostics)
    if _wants(only, FOLD_KIND):
        fold = _fold_action(source, uri, version, first, last)
        if fold is not None:
            if not ls.resolves_edits():
                fold = await _resolve_fold(ls, fold)
            actions.append(fold)
    if _wants(only, DUMP_KIND) and first == last:
        actions += await _dump_actions(ls, source, uri, version, params.range.start)
    return actions


def _fold_action(source: Source, uri: str, version: int | None, first: int, last: int) -> types.CodeAction | None:
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
    return types.CodeAction(
        title=f"Convert to generator loop ({len(run.blocks)} {run.model} blocks)",
        kind=FOLD_KIND,
        data={"action": "fold", "uri": uri, "version": version, "first": first, "last": last},
    )


@server.feature(types.CODE_ACTION_RESOLVE)
async def resolve_action(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data if isinstance(action.data, dict) else {}
    if action.edit is not None or data.get("action") not in {"fold", "dump"}:
        return action  # not ours, or already complete (Neovim resolves every action it runs)
    if data["action"] == "fold":
        return await _resolve_fold(ls, action)
    return await _resolve_dump(ls, action)


async def _resolve_fold(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    assert isinstance(data, dict)
    uri = data["uri"]
    source, version = ls.document(uri)
    text, name = source.text, source.name
    loop = asyncio.get_running_loop()
    try:
        change = await loop.run_in_executor(None, lambda: fold_loop(text, data["first"], data["last"], name=name))
    except DumpscriptError as error:
        ls.tell(f"dumpscript: {error}", types.MessageType.Error)
        return action
    action.edit = ls.workspace_edit(uri, version, ls.edits(source, change.edits))
    return action


# -- dumping rows ------------------------------------------------------------------------------


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
    """The file's names for model classes → ``app.Model`` labels (Django thread)."""
    from dumpscript.transforms.insert_dump import _model_index

    index = _model_index()
    found: dict[str, str] = {}
    for statement in source.module_imports():
        if hasattr(statement, "module") and statement.module and not getattr(statement, "level", 0):
            for alias in statement.names:
                model = index.get((statement.module, alias.name))
                if model is not None:
                    found[alias.asname or alias.name] = model._meta.label
    return found


def _models_here(source: Source, words: list[str]) -> tuple[list[str], bool]:
    """The models to offer at the cursor: the one a word names, or those of the apps the file
    imports from (``True`` when a word named one)."""
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


def _counts(labels: list[str]) -> dict[str, int]:
    from django.apps import apps

    return {label: apps.get_model(label)._base_manager.count() for label in labels}


def _dump_title(label: str, count: int, limit: int) -> str:
    model = label.split(".")[-1]
    if count > limit:
        return f"Dump {model} rows here (first {limit:,} of {count:,} rows)"
    return f"Dump {model} rows here ({count:,} row{'s' if count != 1 else ''})"


async def _dump_actions(
    ls: DumpscriptServer, source: Source, uri: str, version: int | None, position: types.Position
) -> list[types.CodeAction]:
    try:  # while the project is still loading (the first seconds), wait for it
        project = await asyncio.wait_for(ls.django.wait(), timeout=10)
    except asyncio.TimeoutError:
        return []
    if not project.ready:
        return []
    words = _words_at(source, position, ls.encoding)
    try:
        labels, named = await ls.django.run(_models_here, source, words)
        counts = await ls.django.run(_counts, labels)
    except ProjectUnavailable:
        return []
    except DatabaseError as error:  # the database is down, say: explain once, offer no dump
        ls.tell_once(
            "database",
            f"dumpscript: cannot read the database ({_describe(error)}); the Dump actions are off until it answers.",
        )
        return []
    line = _insertion_line(source, position.line + 1)
    actions = []
    if not named:  # the models of the apps the file imports: those that have rows
        labels = [label for label in labels if counts[label]][:MAX_MODEL_ACTIONS]
    for label in labels:
        actions.append(
            types.CodeAction(
                title=_dump_title(label, counts[label], ls.row_limit),
                kind=DUMP_KIND,
                data={"action": "dump", "uri": uri, "version": version, "line": line, "label": label},
            )
        )
    return actions


def _insertion_line(source: Source, line: int) -> int:
    """The line to insert before for a cursor at ``line`` (1-based): that line; after it when
    it is a comment (``# testapp.Book rows``); after the statement the cursor is inside."""
    if line <= len(source.lines) and source.lines[line - 1].lstrip().startswith("#"):
        return line + 1
    start, end = source.statement_lines(line)
    return line if start >= line else end + 1


async def _dump_change(
    ls: DumpscriptServer,
    uri: str,
    line: int | None,
    label: str,
    limit: int | None,
    filter_: dict[str, Any] | None = None,
) -> tuple[types.WorkspaceEdit, str]:
    from dumpscript import DumpOptions
    from dumpscript.transforms import insert_dump

    source, version = ls.document(uri)
    text, name = source.text, source.name
    progress = await ls.start_progress(f"Dumping {label}")
    options = DumpOptions(limit=limit, filter=filter_ or None)
    try:
        change = await ls.django.run(
            lambda: insert_dump(text, label, line=line, options=options, name=name, progress=progress)
        )
    finally:
        if progress is not None:
            progress.end("done")
    return ls.workspace_edit(uri, version, ls.edits(source, change.edits)), change.summary


async def _resolve_dump(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    assert isinstance(data, dict)
    try:
        action.edit, _ = await _dump_change(ls, data["uri"], data["line"], data["label"], ls.row_limit)
    except EXPECTED as error:
        ls.tell(f"dumpscript: {error}", types.MessageType.Error)
    return action


# -- quick fixes ------------------------------------------------------------------------------


def _quick_fixes(
    ls: DumpscriptServer, uri: str, version: int | None, found: Sequence[types.Diagnostic]
) -> list[types.CodeAction]:
    actions = []
    for diagnostic in found:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else None
        if diagnostic.source != diagnostics.SOURCE or not data or data.get("version", version) != version:
            continue
        edits = [
            types.TextEdit(
                range=types.Range(types.Position(a, b), types.Position(c, d)),
                new_text=text,
            )
            for a, b, c, d, text in data["edits"]
        ]
        actions.append(
            types.CodeAction(
                title=data["title"],
                kind=FIX_KIND,
                diagnostics=[diagnostic],
                edit=ls.workspace_edit(uri, version, edits),
                is_preferred=True,
            )
        )
    return actions


# -- commands ---------------------------------------------------------------------------------


def _argument(arguments: tuple[Any, ...]) -> dict[str, Any]:
    if len(arguments) == 1 and isinstance(arguments[0], dict):
        return arguments[0]
    if not arguments:
        return {}
    raise ValueError("dumpscript commands take one argument, an object with named fields")


@server.command("dumpscript.status")
async def cmd_status(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    await ls.django.wait()
    return _status(ls)


@server.command("dumpscript.listModels")
async def cmd_list_models(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"counts": true}`` adds each model's row count."""
    args = _argument(arguments)
    project = await ls.django.wait()
    if not project.ready:
        return {"ready": False, "error": project.describe(), "models": []}
    counts: dict[str, int] = await ls.django.run(_counts, project.models) if args.get("counts") else {}
    models = [{"label": label, "app": label.split(".")[0], "count": counts.get(label)} for label in project.models]
    return {"ready": True, "models": models}


@server.command("dumpscript.foldLoop")
async def cmd_fold(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "first", "last"}`` (1-based lines): fold the run there and apply the edit."""
    args = _argument(arguments)
    uri = args["uri"]
    source, version = ls.document(uri)
    text, name = source.text, source.name
    loop = asyncio.get_running_loop()
    try:
        change = await loop.run_in_executor(
            None, lambda: fold_loop(text, int(args["first"]), int(args.get("last", args["first"])), name=name)
        )
    except DumpscriptError as error:
        return _failed(ls, error)
    edit = ls.workspace_edit(uri, version, ls.edits(source, change.edits))
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=change.summary))
    return {"applied": result.applied, "summary": change.summary}


@server.command("dumpscript.dumpModel")
async def cmd_dump_model(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "line" (1-based; default: end of run()), "label", "filter", "limit"}``: insert
    the rows into the document and apply the edit."""
    args = _argument(arguments)
    limit = args.get("limit", ls.row_limit)
    try:
        edit, summary = await _dump_change(
            ls, args["uri"], args.get("line"), args["label"], int(limit) if limit else None, args.get("filter")
        )
    except EXPECTED as error:
        return _failed(ls, error)
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=summary))
    return {"applied": result.applied, "summary": summary}


@server.command("dumpscript.dumpModelHere")
async def cmd_dump_model_here(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "line"}``: ask which model (``window/showMessageRequest``), then dump it there."""
    args = _argument(arguments)
    project = await ls.django.wait()
    if not project.ready:
        return _failed(ls, ProjectUnavailable(project.describe()))
    source, _ = ls.document(args["uri"])
    labels, _ = await ls.django.run(_models_here, source, [])
    counts = await ls.django.run(_counts, labels or project.models)
    choices = [label for label in labels or project.models if counts[label]][:MAX_MODEL_ACTIONS]
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


@server.command("dumpscript.dumpToFile")
async def cmd_dump_to_file(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"labels": [...], "path", "limit"?}``: write a new script, then ask the editor to show it."""
    from dumpscript import DumpOptions, write_script

    args = _argument(arguments)
    path = Path(args["path"]).expanduser()
    labels = list(args.get("labels") or [])
    limit = args.get("limit")
    progress = await ls.start_progress(f"Dumping {', '.join(labels) or 'all apps'}")
    try:
        lines = await ls.django.run(
            lambda: write_script(
                path, *labels, options=DumpOptions(limit=limit), progress=progress or Progress(enabled=False)
            )
        )
    except EXPECTED as error:
        return _failed(ls, error)
    finally:
        if progress is not None:
            progress.end("done")
    uri = from_fs_path(str(path.resolve())) or str(path)
    await ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
    ls.tell(f"dumpscript: wrote {path} ({lines:,} lines)")
    return {"path": str(path), "uri": uri, "lines": lines}


@server.command("dumpscript.loadScript")
async def cmd_load_script(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "database"?, "confirmed"?, "dryRun"?}``: a dry run first; then, unless
    ``dryRun``, load for real once confirmed (``confirmed``, or the user's answer to a
    ``window/showMessageRequest``)."""
    from dumpscript import load_script

    args = _argument(arguments)
    uri = args["uri"]
    path = Path(to_fs_path(uri) or uri)
    database = args.get("database") or "default"
    try:
        doc = ls.workspace.get_text_document(uri)
        on_disk = path.read_text(encoding="utf-8")
    except OSError as error:
        return _failed(ls, DumpscriptError(f"Cannot read script {path}: {error.strerror}"))
    if doc.source and doc.source != on_disk:
        return _failed(ls, DumpscriptError(f"{path.name} has unsaved changes: save it, then load it"))
    try:
        dry = await ls.django.run(lambda: load_script(path, using=database, dry_run=True))
    except EXPECTED as error:
        return _failed(ls, error)
    summary = _load_summary(dry.created)
    if args.get("dryRun"):
        ls.tell(f"dumpscript: dry run of {path.name}: would create {summary}; nothing was saved")
        return {"loaded": False, "dryRun": True, "created": dry.created}
    if not args.get("confirmed"):
        load = types.MessageActionItem(title="Load")
        answer = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Warning,
                message=f"dumpscript: load {path.name} into database {database!r}? It creates {summary}.",
                actions=[load, types.MessageActionItem(title="Cancel")],
            )
        )
        if answer is None or answer.title != "Load":
            return {"loaded": False, "dryRun": False, "created": dry.created, "cancelled": True}
    try:
        result = await ls.django.run(lambda: load_script(path, using=database))
    except EXPECTED as error:
        return _failed(ls, error)
    ls.tell(f"dumpscript: loaded {path.name} into {database!r}: created {_load_summary(result.created)}")
    return {"loaded": True, "dryRun": False, "created": result.created}


def _load_summary(created: dict[str, int]) -> str:
    total = sum(created.values())
    parts = ", ".join(f"{label}: {count:,}" for label, count in sorted(created.items()))
    return f"{total:,} rows ({parts})" if parts else "no rows"


def _describe(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if isinstance(error, DatabaseError) else text


def _failed(ls: DumpscriptServer, error: Exception) -> dict[str, Any]:
    message = _describe(error)
    if isinstance(error, DatabaseError):
        message = f"cannot use the database: {message}"
    ls.tell(f"dumpscript: {message}", types.MessageType.Error)
    return {"error": message}
