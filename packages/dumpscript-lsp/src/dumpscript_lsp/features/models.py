"""The ``dumpscript.listModels`` command: the project's models, with their row counts."""

from __future__ import annotations

from typing import Any

from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features._common import argument, counts


def register(server: DumpscriptServer) -> None:
    server.command("dumpscript.listModels")(cmd_list_models)


async def cmd_list_models(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"counts": true}`` adds each model's row count."""
    args = argument(arguments)
    project = await ls.django.wait()
    if not project.ready:
        return {"ready": False, "error": project.describe(), "models": []}
    found: dict[str, int] = await ls.django.run(counts, project.models) if args.get("counts") else {}
    models = [{"label": label, "app": label.split(".")[0], "count": found.get(label)} for label in project.models]
    return {"ready": True, "models": models}
