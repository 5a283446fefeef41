"""A real LSP client (pytest-lsp's, over stdio) talking to ``python -m dumpscript_lsp``.

The client plays an editor: it opens documents, keeps their text, applies the workspace
edits the server sends (``workspace/applyEdit``) and answers ``window/showMessageRequest``
with the answers a test queues.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from conftest import TESTS, Databases


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """``text`` with LSP edits applied (positions in UTF-16 code units)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        line = lines[position.line]
        units = 0
        for column, char in enumerate(line):
            if units >= position.character:
                return starts[position.line] + column
            units += 2 if ord(char) > 0xFFFF else 1
        return starts[position.line] + len(line)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    found: list[types.TextEdit] = []
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri:
            found += [e for e in change.edits if isinstance(e, types.TextEdit)]
    found += list((edit.changes or {}).get(uri, []))
    return found


class Editor:
    """The client side of a session: documents by URI, answers to questions, what it saw."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.answers: list[str | None] = []
        self.questions: list[types.ShowMessageRequestParams] = []
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.status: list[Any] = []

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str, text: str, *, save: bool = True) -> str:
        path = self.root / name
        if save:
            path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
        )
        return uri

    def change(self, uri: str, text: str) -> None:
        self.texts[uri] = text
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def apply(self, edit: types.WorkspaceEdit) -> None:
        for uri in list(self.texts):
            edits = edits_of(edit, uri)
            if edits:
                self.change(uri, apply_text_edits(self.texts[uri], edits))

    async def actions(self, uri: str, line: int, character: int = 0, end: tuple[int, int] | None = None,
                      only: list[str] | None = None, diagnostics: list[types.Diagnostic] | None = None
                      ) -> list[types.CodeAction]:  # fmt: skip
        """Code actions at a 1-based line (or a selection to ``end``)."""
        start = types.Position(line - 1, character)
        stop = types.Position(end[0] - 1, end[1]) if end else start
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start, stop),
                context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),  # type: ignore[arg-type]
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def run(self, action: types.CodeAction) -> None:
        """What an editor does when the user picks an action: resolve it, apply its edit."""
        if action.edit is None:
            action = await self.client.code_action_resolve_async(action)
        assert action.edit is not None, f"no edit for {action.title!r}"
        self.apply(action.edit)

    async def command(self, name: str, argument: dict[str, Any] | None = None) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[argument] if argument is not None else [])
        )


async def start(dbs: Databases | None, root: Path, *, env: dict[str, str] | None = None,
                options: dict[str, Any] | None = None, capabilities: str = "visual-studio-code",
                position_encodings: list[str] | None = None) -> Editor:  # fmt: skip
    """Start the server in a subprocess (the test project's settings and databases) and
    initialize a session as ``capabilities``' client would."""
    client = make_test_lsp_client()
    editor = Editor(client, root)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        editor.applied.append(params)
        editor.apply(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature("dumpscript/status")
    def status(params: Any) -> None:
        editor.status.append(params._asdict() if hasattr(params, "_asdict") else params)

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def question(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        editor.questions.append(params)
        answer = editor.answers.pop(0) if editor.answers else None
        return types.MessageActionItem(title=answer) if answer is not None else None

    environment = dict(dbs.env if dbs is not None else os.environ)
    environment.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    if dbs is None:
        environment["PYTHONPATH"] = os.pathsep.join([str(TESTS), environment.get("PYTHONPATH", "")])
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the server must keep Django off its loop
    environment.update(env or {})
    for key, value in list(environment.items()):
        if value is None:
            del environment[key]
    await client.start_io(sys.executable, "-m", "dumpscript_lsp", env=environment, cwd=str(root))
    asked = client_capabilities(capabilities)
    if position_encodings is not None:  # the encodings the client offers, preferred first
        general = asked.general or types.GeneralClientCapabilities()
        general.position_encodings = [types.PositionEncodingKind(kind) for kind in position_encodings]
        asked.general = general
    await client.initialize_session(
        types.InitializeParams(
            capabilities=asked,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options or {},
        )
    )
    return editor


async def stop(editor: Editor) -> None:
    from django.db import connections

    await editor.client.shutdown_session()
    await editor.client.stop()
    # Django keeps the connections an async test opened in that test's context, where the
    # fixtures that drop the databases cannot see them: close them here.
    connections.close_all()
