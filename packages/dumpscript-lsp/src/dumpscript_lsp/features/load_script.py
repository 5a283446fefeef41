"""The ``dumpscript.loadScript`` command: a dry run, the user's confirmation, then the load; on
rows that are in the database already, the offer to replace them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pygls.uris import to_fs_path

from dumpscript import ConflictError, DumpscriptError, LoadResult, Progress, load_script
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features._common import EXPECTED, argument, confirm, failed, forget_counts


def register(server: DumpscriptServer) -> None:
    server.command("dumpscript.loadScript")(cmd_load_script)


async def cmd_load_script(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"uri", "database"?, "confirmed"?, "dryRun"?, "replace"?, "progressToken"?}``: a dry
    run first; then, unless ``dryRun``, load for real once confirmed (``confirmed``, or the
    user's answer to a ``window/showMessageRequest``). When the dry run meets rows that are in
    the database already (a unique constraint), the question offers to replace the rows of the
    models the script creates (``loadscript --replace``), saying how many go."""
    args = argument(arguments)
    uri = args["uri"]
    path = Path(to_fs_path(uri) or uri)
    database = args.get("database") or "default"
    replace = bool(args.get("replace"))
    token = args.get("progressToken")
    try:
        doc = ls.workspace.get_text_document(uri)
        on_disk = path.read_text(encoding="utf-8")
    except OSError as error:
        return failed(ls, DumpscriptError(f"Cannot read script {path}: {error.strerror}"))
    if doc.source and doc.source != on_disk:
        return failed(ls, DumpscriptError(f"{path.name} has unsaved changes: save it, then load it"))

    async def load(title: str, **options: Any) -> LoadResult:
        progress = await ls.start_progress(title, token)

        def run() -> LoadResult:
            return load_script(path, using=database, progress=progress or Progress(enabled=False), **options)

        try:
            return await ls.django.run(run)
        finally:
            if progress is not None:
                progress.end("done")

    conflict = None
    try:
        dry = await load(f"Checking {path.name} (dry run)", dry_run=True, replace=replace)
    except ConflictError as error:
        if args.get("dryRun"):
            return failed(ls, error)
        conflict = error
        try:
            dry = await load(f"Checking {path.name} with --replace (dry run)", dry_run=True, replace=True)
        except EXPECTED:
            return failed(ls, error)
    except EXPECTED as error:
        return failed(ls, error)
    summary = _summary(dry.created)
    if args.get("dryRun"):
        ls.tell(f"dumpscript: dry run of {path.name}: would create {summary}; nothing was saved")
        return {"loaded": False, "dryRun": True, "created": dry.created, "deleted": dry.deleted}
    if conflict is not None and not replace:
        reason = str(conflict).split(": ", 1)[-1].split(" (in `")[0]
        question = (
            f"dumpscript: database {database!r} already has rows that {path.name} creates ({reason}). "
            f"Replace them? It deletes {_summary(dry.deleted)} and creates {summary}."
        )
        if not await confirm(ls, question, "Replace"):
            return {"loaded": False, "dryRun": False, "created": dry.created, "cancelled": True, "conflict": True}
        replace = True
    elif not args.get("confirmed"):
        deletes = f" after deleting {_summary(dry.deleted)}" if dry.deleted else ""
        question = f"dumpscript: load {path.name} into database {database!r}? It creates {summary}{deletes}."
        if not await confirm(ls, question, "Load"):
            return {"loaded": False, "dryRun": False, "created": dry.created, "cancelled": True}
    try:
        result = await load(f"Loading {path.name} into {database!r}", replace=replace)
        forget_counts()
    except EXPECTED as error:
        return failed(ls, error)
    deleted = f"deleted {_summary(result.deleted)}, " if result.deleted else ""
    ls.tell(f"dumpscript: loaded {path.name} into {database!r}: {deleted}created {_summary(result.created)}")
    return {"loaded": True, "dryRun": False, "created": result.created, "deleted": result.deleted}


def _summary(created: dict[str, int]) -> str:
    total = sum(created.values())
    parts = ", ".join(f"{label}: {count:,}" for label, count in sorted(created.items()))
    return f"{total:,} row{'s' if total != 1 else ''} ({parts})" if parts else "no rows"
