"""Diagnostics of open documents (:mod:`~dumpscript_lsp.features.checks`), published a moment
after the last change; computed in the Django thread (they read the model registry)."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pygls.uris import to_fs_path

from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features import checks


def register(server: DumpscriptServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE)(did_save)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)


def did_open(ls: DumpscriptServer, params: types.DidOpenTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri, delay=0)


def did_change(ls: DumpscriptServer, params: types.DidChangeTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri, delay=0.4)


def did_save(ls: DumpscriptServer, params: types.DidSaveTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri, delay=0)


def did_close(ls: DumpscriptServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.forget(uri)
    task = ls.diagnostics.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def schedule(ls: DumpscriptServer, uri: str, delay: float) -> None:
    """Publish the diagnostics of ``uri`` after ``delay`` seconds (a newer call replaces it)."""
    previous = ls.diagnostics.pop(uri, None)
    if previous is not None:
        previous.cancel()
    ls.diagnostics[uri] = asyncio.ensure_future(_publish(ls, uri, delay))


async def _publish(ls: DumpscriptServer, uri: str, delay: float) -> None:
    if delay:
        await asyncio.sleep(delay)
    project = await ls.django.wait()
    try:
        doc = ls.workspace.get_text_document(uri)
    except Exception:
        return
    text, version = doc.source, doc.version
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if project.ready and checks.looks_like_script(text):
        found = await ls.django.run(checks.check, text, path, True, ls.encoding)
    else:
        found = []
    if ls.diagnostics.get(uri) is asyncio.current_task() or uri not in ls.diagnostics:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=version)
        )
