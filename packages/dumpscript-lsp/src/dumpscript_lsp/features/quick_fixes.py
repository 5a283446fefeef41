"""Quick fixes: the edits that the diagnostics carry (rename a mistyped keyword to the nearest
field, preferred; remove an unknown keyword, which deletes its value; remove a missing model's
import and the statements that use it)."""

from __future__ import annotations

from lsprotocol import types

from dumpscript.transforms import Source
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features import checks

KIND = "quickfix.dumpscript"


def register(server: DumpscriptServer) -> None:
    server.add_code_actions(KIND, actions)


async def actions(
    ls: DumpscriptServer, params: types.CodeActionParams, source: Source, version: int | None
) -> list[types.CodeAction]:
    uri = params.text_document.uri
    found = []
    for diagnostic in params.context.diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else None
        if diagnostic.source != checks.SOURCE or not data or data.get("version", version) != version:
            continue
        for fix in data.get("fixes", []):
            edits = [
                types.TextEdit(range=types.Range(types.Position(a, b), types.Position(c, d)), new_text=text)
                for a, b, c, d, text in fix["edits"]
            ]
            found.append(
                types.CodeAction(
                    title=fix["title"],
                    kind=KIND,
                    diagnostics=[diagnostic],
                    edit=ls.workspace_edit(uri, version, edits),
                    is_preferred=bool(fix.get("preferred")),
                )
            )
    return found
