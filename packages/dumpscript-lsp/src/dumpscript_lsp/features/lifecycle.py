"""Start-up: the client's options, loading the Django project (once, in the Django thread), the
``dumpscript/status`` notification and the ``dumpscript.status`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features import diagnostics
from dumpscript_lsp.project import find_project


def register(server: DumpscriptServer) -> None:
    server.feature(types.INITIALIZE)(on_initialize)
    server.feature(types.INITIALIZED)(on_initialized)
    server.command("dumpscript.status")(cmd_status)


def on_initialize(ls: DumpscriptServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    ls.options = dict(options) if isinstance(options, dict) else {}
    limit = ls.options.get("rowLimit")
    if isinstance(limit, int) and limit > 0:
        ls.row_limit = limit


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
    ls.protocol.notify("dumpscript/status", status(ls))
    for uri in list(ls.workspace.text_documents):
        diagnostics.schedule(ls, uri, delay=0)


def status(ls: DumpscriptServer) -> dict[str, Any]:
    project = ls.django.project
    return {
        "ready": project.ready,
        "settingsModule": project.settings_module,
        "managePy": str(project.manage_py) if project.manage_py else None,
        "foundBy": project.source,
        "error": project.error,
        "models": len(project.models),
        "description": project.describe(),
        "databases": _databases() if project.ready else [],
    }


def _databases() -> list[dict[str, str]]:
    """The project's ``DATABASES``: alias, vendor and name (where a load can go)."""
    from django.db import connections

    return [
        {
            "alias": alias,
            "vendor": connections[alias].vendor,
            "name": str(connections.settings[alias].get("NAME") or ""),
        }
        for alias in connections.settings
    ]


async def cmd_status(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    await ls.django.wait()
    return status(ls)
