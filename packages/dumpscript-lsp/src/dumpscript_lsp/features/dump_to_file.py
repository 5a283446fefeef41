"""The ``dumpscript.dumpToFile`` command: write a new script, then show it in the editor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from dumpscript import OutputNameError, Progress, preview_subset, write_script
from dumpscript._api import check_output_name
from dumpscript.files import written_by_dumpscript
from dumpscript_lsp.base import DumpscriptServer
from dumpscript_lsp.features._common import EXPECTED, argument, confirm, dump_options, failed


def register(server: DumpscriptServer) -> None:
    server.command("dumpscript.dumpToFile")(cmd_dump_to_file)
    server.command("dumpscript.checkTarget")(cmd_check_target)
    server.command("dumpscript.previewSubset")(cmd_preview_subset)


async def cmd_preview_subset(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"labels": [...]}`` and the selection (``filter``, ``pks``, ``follow``, ``noFollow``,
    ``depth``): what a dump of them would hold (``dumpscript --preview``), without reading the
    rows: ``{"text", "totals"}``."""
    args = argument(arguments)
    labels = list(args.get("labels") or [])
    try:
        options = dump_options(args)
        preview = await ls.django.run(lambda: preview_subset(*labels, options=options))
    except EXPECTED as error:
        return failed(ls, error)
    return {"text": preview.text(), "totals": preview.totals}


async def cmd_check_target(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"path"}``: what writing a script there would meet, for an input box to say while the
    name is typed: ``error`` (a name that shadows a module), ``exists`` and its ``lines``."""
    path = Path(argument(arguments)["path"]).expanduser()
    try:
        await ls.django.wait()
        await ls.django.run(check_output_name, path)
    except OutputNameError as error:
        return {"error": str(error)}
    except EXPECTED:
        pass  # no project: the dump says why
    exists = path.is_file()
    return {"exists": exists, "lines": _lines(path) if exists else 0}


async def cmd_dump_to_file(ls: DumpscriptServer, *arguments: Any) -> dict[str, Any]:
    """``{"labels": [...], "path", "replace"?, "progressToken"?}`` and the selection
    (:func:`~dumpscript_lsp.features._common.dump_options`: ``filter``, ``anonymize``…):
    write a new script, then ask the editor to show it. A file that exists is replaced only once the user
    says so (or with ``replace``)."""
    args = argument(arguments)
    path = Path(args["path"]).expanduser()
    labels = list(args.get("labels") or [])
    try:
        options = dump_options(args)
    except EXPECTED as error:
        return failed(ls, error)
    exists = path.exists()
    if exists and not args.get("replace"):
        ours = "" if written_by_dumpscript(path) else ", not written by dumpscript"
        question = f"dumpscript: {path.name} exists ({_lines(path):,} lines{ours}). Replace it with the dump?"
        if not await confirm(ls, question, "Replace"):
            return {"path": str(path), "cancelled": True}
    progress = await ls.start_progress(f"Dumping {', '.join(labels) or 'all apps'}", args.get("progressToken"))
    try:
        lines = await ls.django.run(
            lambda: write_script(
                path,
                *labels,
                options=options,
                progress=progress or Progress(enabled=False),
                force=exists,  # the user said to replace it
            )
        )
    except EXPECTED as error:
        return failed(ls, error)
    finally:
        if progress is not None:
            progress.end("done")
    uri = from_fs_path(str(path.resolve())) or str(path)
    await ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
    ls.tell(f"dumpscript: wrote {path} ({lines:,} lines)")
    return {"path": str(path), "uri": uri, "lines": lines}


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(1 for _ in file)
    except OSError:
        return 0
