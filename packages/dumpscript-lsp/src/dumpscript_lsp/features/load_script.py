"""The ``dumpscript.loadScript`` command: a dry run, the user's confirmation, then the load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pygls.uris import to_fs_path

from dumpscript import DumpscriptError, load_script
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features._common import EXPECTED, argument, confirm, failed, forget_counts


def register(server: DumpscriptServer) -> None:
    server.command("dumpscript.loadScript")(cmd_load_script)


async def cmd_load_script(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "database"?, "confirmed"?, "dryRun"?}``: a dry run first; then, unless
    ``dryRun``, load for real once confirmed (``confirmed``, or the user's answer to a
    ``window/showMessageRequest``)."""
    args = argument(arguments)
    uri = args["uri"]
    path = Path(to_fs_path(uri) or uri)
    database = args.get("database") or "default"
    try:
        doc = ls.workspace.get_text_document(uri)
        on_disk = path.read_text(encoding="utf-8")
    except OSError as error:
        return failed(ls, DumpscriptError(f"Cannot read script {path}: {error.strerror}"))
    if doc.source and doc.source != on_disk:
        return failed(ls, DumpscriptError(f"{path.name} has unsaved changes: save it, then load it"))
    try:
        dry = await ls.django.run(lambda: load_script(path, using=database, dry_run=True))
    except EXPECTED as error:
        return failed(ls, error)
    summary = _summary(dry.created)
    if args.get("dryRun"):
        ls.tell(f"dumpscript: dry run of {path.name}: would create {summary}; nothing was saved")
        return {"loaded": False, "dryRun": True, "created": dry.created}
    if not args.get("confirmed"):
        question = f"dumpscript: load {path.name} into database {database!r}? It creates {summary}."
        if not await confirm(ls, question, "Load"):
            return {"loaded": False, "dryRun": False, "created": dry.created, "cancelled": True}
    try:
        result = await ls.django.run(lambda: load_script(path, using=database))
        forget_counts()
    except EXPECTED as error:
        return failed(ls, error)
    ls.tell(f"dumpscript: loaded {path.name} into {database!r}: created {_summary(result.created)}")
    return {"loaded": True, "dryRun": False, "created": result.created}


def _summary(created: dict[str, int]) -> str:
    total = sum(created.values())
    parts = ", ".join(f"{label}: {count:,}" for label, count in sorted(created.items()))
    return f"{total:,} rows ({parts})" if parts else "no rows"
