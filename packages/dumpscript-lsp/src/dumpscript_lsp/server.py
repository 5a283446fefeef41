"""The language server: the protocol's plumbing, and the wiring of the features
(:mod:`dumpscript_lsp.features`, one per module).

Transforms (folding loops) need only the document and work without Django. Everything that
touches Django runs in the :class:`~dumpscript_lsp.project.Django` thread; when the project
cannot be loaded the server says why once and keeps offering the transforms.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features import FEATURES


def _wants(only: Sequence[str] | None, kind: str) -> bool:
    return not only or any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def create_server() -> DumpscriptServer:
    """A server with every feature registered."""
    ls = DumpscriptServer()
    for feature in FEATURES:
        feature.register(ls)
    kinds = [kind for kind, _ in ls.providers]

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True)
    )
    async def code_actions(ls: DumpscriptServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        source, version = ls.document(params.text_document.uri)
        actions: list[types.CodeAction] = []
        for kind, provider in ls.providers:
            if _wants(params.context.only, kind):
                actions += await provider(ls, params, source, version)
        return actions

    @ls.feature(types.CODE_ACTION_RESOLVE)
    async def resolve_action(ls: DumpscriptServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        resolve = ls.resolvers.get(data.get("action", ""))
        if action.edit is not None or resolve is None:
            return action  # not ours, or already complete (Neovim resolves every action it runs)
        return await resolve(ls, action)

    return ls


server = create_server()
