"""The server class: the protocol's plumbing that the features use (documents, edits, messages,
progress, the Django thread) and the registry of code-action providers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from dumpscript.transforms import Source, TextEdit
from dumpscript_lsp import __version__
from dumpscript_lsp.documents import Documents, lsp_edits
from dumpscript_lsp.progress import LspProgress
from dumpscript_lsp.project import Django

DEFAULT_ROW_LIMIT = 1000

ActionProvider = Callable[
    ["DumpscriptServer", types.CodeActionParams, Source, "int | None"], Awaitable[list[types.CodeAction]]
]
Resolver = Callable[["DumpscriptServer", types.CodeAction], Awaitable[types.CodeAction]]


class DumpscriptServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dumpscript-lsp", __version__)
        self.documents = Documents()
        self.django = Django()
        self.options: dict[str, Any] = {}
        self.row_limit = DEFAULT_ROW_LIMIT
        self.diagnostics: dict[str, asyncio.Task[None]] = {}
        self.providers: list[tuple[str, ActionProvider]] = []
        self.resolvers: dict[str, Resolver] = {}
        self._told: set[str] = set()

    def add_code_actions(
        self, kind: str, provider: ActionProvider, resolve_name: str = "", resolve: Resolver | None = None
    ) -> None:
        """Offer ``provider``'s code actions of ``kind``; actions whose ``data["action"]`` is
        ``resolve_name`` get their edit from ``resolve``."""
        self.providers.append((kind, provider))
        if resolve is not None:
            self.resolvers[resolve_name] = resolve

    # -- helpers for the features ------------------------------------------------------------

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

    async def start_progress(self, title: str, token: str | None = None) -> LspProgress | None:
        """A work-done progress: on ``token`` when the client gave one with the command (its
        ``progressToken``: the client shows it where it likes), else one the server creates
        (when the client supports that)."""
        if token is None:
            window = self.client_capabilities.window
            if not (window and window.work_done_progress):
                return None
            token = f"dumpscript-{uuid.uuid4()}"
            try:
                await self.work_done_progress.create_async(token)
            except Exception:  # the client refused: go on without
                return None
        self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, percentage=0, cancellable=False))
        return LspProgress(self, token, asyncio.get_running_loop())
