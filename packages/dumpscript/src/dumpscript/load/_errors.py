"""A load's errors: one line naming the script's line (and, in a batch, the object), and the
inputs refused before anything runs (an unknown database, a fixture)."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from django.db import IntegrityError

from dumpscript.errors import ConflictError, ScriptError
from dumpscript.load._blame import find_culprit
from dumpscript.load._fields import unknown_fields
from dumpscript.options import check_database


def script_path(path: str | os.PathLike[str], using: str) -> Path:
    """The script at ``path``, once the database exists and the file is not a fixture."""
    check_database(using)
    script = Path(path).resolve()
    _refuse_fixture(script, path)
    return script


_FIXTURE_SUFFIXES = {".json", ".jsonl", ".xml", ".yaml", ".yml"}


def _refuse_fixture(script: Path, given: str | os.PathLike[str]) -> None:
    """A fixture (JSON, YAML, XML) given to a load of scripts: a one-line error, not a run of
    its text as Python (JSON is a valid Python expression that creates nothing)."""
    suffixes = {suffix.lower() for suffix in script.suffixes}
    try:
        with script.open("rb") as file:
            head = file.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return  # the load says why it cannot read it
    looks_like = head[:1] in (b"[", b"{") or head.startswith(b"<?xml") or head.startswith(b"- model:")
    if suffixes & _FIXTURE_SUFFIXES or looks_like:
        raise ScriptError(
            f"{given} is a fixture, not a dumpscript script: load fixtures with manage.py loaddata; nothing was loaded"
        )


def exit_failure(path: Path, error: SystemExit) -> ScriptError:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if Path(frame.filename) == path]
    where = f", line {frames[-1].lineno}" if frames else ""
    code = error.code if error.code is not None else 0
    return ScriptError(f"{path}{where}: the script called sys.exit({code!r}) before it finished; nothing was loaded")


def failure(path: Path, error: BaseException) -> ScriptError:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if Path(frame.filename) == path]
    message = " ".join(str(error).split()) or type(error).__name__
    if not frames:
        return ScriptError(f"{path}: {type(error).__name__}: {message}; nothing was loaded")
    frame = frames[-1]
    code = (frame.line or "").strip()
    if len(code) > 80:
        code = code[:77] + "..."
    unknown = unknown_fields(error)
    if unknown is not None:  # a script written before a field was removed or renamed, or a typo
        return ScriptError(
            f"{path}, line {frame.lineno}: {unknown.text()}; to load the rest, leaving such values out (each "
            "counted), use --drop-unknown-fields; nothing was loaded"
        )
    culprit = find_culprit(path, error)
    if culprit is not None:  # the object of a batch, on its own line
        text = (
            f"{path}, {culprit.text()} ({type(error).__name__}: {message}, in the batch at line {frame.lineno}); "
            "nothing was loaded"
        )
        return ScriptError(text)
    text = f"{path}, line {frame.lineno}: {type(error).__name__}: {message} (in `{code}`); nothing was loaded"
    if isinstance(error, IntegrityError) and ("unique" in message.lower() or "duplicate" in message.lower()):
        return ConflictError(
            f"{text} (rows already in the database: a data migration's rows? declare them in DUMPSCRIPT_MATCH, "
            "dump with --upsert, or load with --replace)"
        )
    return ScriptError(text)
