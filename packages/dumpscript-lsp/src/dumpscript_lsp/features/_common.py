"""What the features share: the errors a command answers with a message, and the argument of
``workspace/executeCommand``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.db import DatabaseError
from lsprotocol import types

from dumpscript import DumpscriptError
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.project import ProjectUnavailable

EXPECTED = (DumpscriptError, ProjectUnavailable, DatabaseError)
"""Errors a command answers with a message (the server goes on)."""


def argument(arguments: tuple[Any, ...]) -> dict[str, Any]:
    """The one argument of a dumpscript command: an object with named fields."""
    if len(arguments) == 1 and isinstance(arguments[0], dict):
        return arguments[0]
    if not arguments:
        return {}
    raise ValueError("dumpscript commands take one argument, an object with named fields")


def describe(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if isinstance(error, DatabaseError) else text


def failed(ls: DumpscriptServer, error: Exception) -> dict[str, Any]:
    """Tell the user why a command failed; its answer."""
    message = describe(error)
    if isinstance(error, DatabaseError):
        message = f"cannot use the database: {message}"
    ls.tell(f"dumpscript: {message}", kind(error))
    return {"error": message}


Edit = Callable[[], Awaitable[tuple[types.WorkspaceEdit, str]]]
"""A feature's change of a document: the workspace edit and its summary."""


async def resolved(ls: DumpscriptServer, action: types.CodeAction, edit: Edit) -> types.CodeAction:
    """A code action with its edit (resolved when the user picks it); an expected error is
    told, and the action comes back without an edit."""
    try:
        action.edit, _ = await edit()
    except EXPECTED as error:
        ls.tell(f"dumpscript: {describe(error)}", kind(error))
    return action


async def applied(ls: DumpscriptServer, edit: Edit) -> dict[str, Any]:
    """A command's change, applied by the client: ``{"applied", "summary"}``, or the error's
    ``{"error"}`` (told to the user)."""
    try:
        workspace_edit, summary = await edit()
    except EXPECTED as error:
        return failed(ls, error)
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=workspace_edit, label=summary))
    return {"applied": result.applied, "summary": summary}


def kind(error: Exception) -> types.MessageType:
    """Nothing to insert is news (an information message), not an error."""
    from dumpscript import NothingToInsert

    return types.MessageType.Info if isinstance(error, NothingToInsert) else types.MessageType.Error


def dump_options(args: dict[str, Any], **defaults: Any) -> Any:
    """The :class:`~dumpscript.DumpOptions` a dump command's argument asks for: ``limit``,
    ``filter`` (a dictionary of lookups, a list of ``field__lookup=value``, or one text of
    them), ``pks``, ``anonymize``, ``follow``, ``noFollow``, ``depth``
    (:func:`dumpscript.options.options_from`, as the command line)."""
    from dumpscript.options import options_from

    limit = args.get("limit", defaults.get("limit"))
    return options_from(
        limit=int(limit) if limit else None,
        filter=args.get("filter"),
        pks=args.get("pks"),
        anonymize=bool(args.get("anonymize")),
        follow=tuple(args.get("follow") or ()),
        no_follow=tuple(args.get("noFollow") or ()),
        depth=args.get("depth"),
    )


async def project_ready(ls: DumpscriptServer) -> bool:
    """The Django project loaded (waiting for it, at most 10 s, in the server's first seconds):
    what a code action that needs it asks before offering anything."""
    try:
        project = await asyncio.wait_for(ls.django.wait(), timeout=10)
    except asyncio.TimeoutError:
        return False
    return project.ready


COUNTS_FOR = 30.0
"""Seconds a row count is reused (the light bulb asks on every cursor move)."""
_counted: dict[str, tuple[float, int]] = {}


def counts(labels: list[str]) -> dict[str, int]:
    """Rows per model label (Django thread): one ``COUNT`` per model at most every
    :data:`COUNTS_FOR` seconds, and again after a load (:func:`forget_counts`)."""
    from django.apps import apps

    now = time.monotonic()
    found = {}
    for label in labels:
        known = _counted.get(label)
        if known is None or now - known[0] > COUNTS_FOR:
            known = _counted[label] = (now, apps.get_model(label)._base_manager.count())
        found[label] = known[1]
    return found


def forget_counts() -> None:
    """The database changed (a load): count again."""
    _counted.clear()


async def confirm(ls: DumpscriptServer, message: str, action: str) -> bool:
    """Ask ``message`` with the buttons ``action`` and Cancel; True when the user chose ``action``."""
    answer = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=message,
            actions=[types.MessageActionItem(title=action), types.MessageActionItem(title="Cancel")],
        )
    )
    return answer is not None and answer.title == action
