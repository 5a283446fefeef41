"""Run a script (generated or hand-edited) against a database in one transaction.

The stages of a load, each in its module: ``_errors`` refuses what cannot be a script (an
unknown database, a fixture) and turns a failure into one line; ``_pieces`` compiles the
script, every piece before any runs; ``_replace`` deletes what ``replace`` asks (and counts it
first, for the question); ``_inserts`` counts the rows written and keeps other databases
read-only; ``_header`` reads what a generated script announces (its row counts).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import types
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, transaction

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript.errors import ScriptError
from dumpscript.load._errors import exit_failure, failure, script_path
from dumpscript.load._fields import dropping_unknown_fields
from dumpscript.load._header import announced_rows, recorded_migrations
from dumpscript.load._inserts import Inserts, count_inserts, reset_sequences
from dumpscript.load._pieces import Compiled, NotChunkable, compile_pieces, layout_of, read_whole, run_compiled
from dumpscript.load._replace import ReplacePreview, counts_text, created_models, delete_created, replace_preview
from dumpscript.replay import Changes, changes_since, replaying

__all__ = ["LoadResult", "ReplacePreview", "created_models", "load_script", "replace_preview"]


@dataclass
class LoadResult:
    """What a load did, per model label (``polls.Poll``; auto-created M2M tables too)."""

    created: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    """Values left out per ``app.Model.field`` that the model does not have
    (``drop_unknown_fields``)."""
    replayed: list[str] = field(default_factory=list)
    """The migrations written after the script's recorded state that the load replayed on its
    values (``"polls 0002_remove_choice_votes"``), in order."""
    left_out: dict[str, int] = field(default_factory=dict)
    """Values and rows the replayed migrations removed, per ``"polls.Choice.votes (removed in
    polls 0002_remove_choice_votes)"``."""
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.created.values())


def load_script(
    path: str | os.PathLike[str],
    *,
    using: str = DEFAULT_DB_ALIAS,
    dry_run: bool = False,
    replace: bool = False,
    expect_deleted: dict[str, int] | None = None,
    drop_unknown_fields: bool = False,
    progress: Progress = NO_PROGRESS,
) -> LoadResult:
    """Run the script at ``path`` into database ``using``, all in one transaction.

    A script that records the migrations it was written at (``MIGRATIONS``), loaded into a
    database whose migrations are further along, loads as Django's ``migrate`` would have
    brought its rows forward (:mod:`dumpscript.replay`: renamed models and fields followed,
    removed ones left out and counted in ``left_out``, one-off defaults given, altered values
    converted); a data migration (``RunPython``, ``RunSQL``) in between makes it refuse,
    naming the migration. Otherwise a keyword of ``Model(...)`` that is not a field of the
    model (removed or renamed since the script was written) stops the load with the line,
    the field and the nearest field; with ``drop_unknown_fields`` such values are left out
    instead, each counted in ``dropped``.

    The script's module code runs, then its ``run(using=...)`` function if it has one. The
    whole script is compiled before anything runs (``run()``'s body a piece at a time, so
    that memory stays flat), so a script that does not compile runs nothing. With
    ``replace`` the rows of the models the script constructs are deleted first (cascading as
    Django does), in the same transaction; ``expect_deleted`` (what :func:`replace_preview`
    counted, shown to the user) makes it refuse, deleting nothing, when it would delete
    anything else. With ``dry_run`` everything is rolled back and the result says what would
    have been created. A write to any other database (a statement without ``.using(using)``)
    is refused: it would escape the transaction and the dry run. On any error nothing is
    written and a :class:`ScriptError` names the script line.
    """
    script = script_path(path, using)
    try:
        layout = layout_of(script)
    except OSError as error:
        raise ScriptError(f"Cannot read script {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError):
        layout = None
    code: Compiled | types.CodeType | None = None
    if layout is not None:
        with contextlib.suppress(NotChunkable):  # nothing ran: compile it whole (a syntax error is said well)
            code = compile_pieces(script, layout)
    if code is None:
        code = read_whole(script)
    try:
        changes = _changes(script, using)
        return _load(script, code, using, dry_run, replace, expect_deleted, drop_unknown_fields, progress, changes)
    finally:
        if isinstance(code, Compiled):
            code.close()


def _load(
    script: Path,
    code: Compiled | types.CodeType,
    using: str,
    dry_run: bool,
    replace: bool,
    expect_deleted: dict[str, int] | None,
    drop_unknown_fields: bool,
    progress: Progress,
    changes: Changes | None = None,
) -> LoadResult:
    module = types.ModuleType(f"dumpscript_loaded_{abs(hash(str(script)))}")
    module.__file__ = str(script)
    namespace = module.__dict__
    result = LoadResult(dry_run=dry_run)
    inserted = Inserts()
    progress.start("loading", sum(announced_rows(script).values()) or None)
    try:
        with transaction.atomic(using=using):
            if replace:
                result.deleted = delete_created(script, using)
                if expect_deleted is not None and result.deleted != expect_deleted:
                    raise ScriptError(
                        f"{script}: the rows --replace deletes changed since they were counted "
                        f"({counts_text(expect_deleted)} then, {counts_text(result.deleted)} now); "
                        "nothing was deleted or loaded"
                    )
            dropped: Counter[str] = Counter()
            left_out: Counter[str] = Counter()
            dropping = dropping_unknown_fields(dropped) if drop_unknown_fields else contextlib.nullcontext()
            migrating = replaying(changes, left_out) if changes else contextlib.nullcontext()
            # the outermost rewrite of keywords runs first: old names are replayed, then unknown ones dropped
            with count_inserts(using, progress, inserted), dropping, migrating:
                if isinstance(code, Compiled):
                    run_compiled(code, namespace, using)
                else:
                    _run_whole(code, namespace, using)
            progress.finish()
            result.created = inserted.objects()
            result.dropped = dict(sorted(dropped.items()))
            result.left_out = dict(sorted(left_out.items()))
            result.replayed = list(changes.replayed) if changes else []
            if not dry_run:  # setval is not rolled back: a dry run leaves the sequences alone
                reset_sequences(using, inserted.models())
            if dry_run:
                transaction.set_rollback(True, using=using)
    except ScriptError:
        progress.finish()
        raise
    except SystemExit as error:  # exit() in the script: rolled back, and said so
        progress.finish()
        raise exit_failure(script, error) from None
    except Exception as error:
        progress.finish()
        raise failure(script, error) from error
    return result


def _changes(script: Path, using: str) -> Changes | None:
    """The migrations applied in ``using`` since the state the script records, or None (it
    records none, or is at the same state); refuses a data migration in between."""
    recorded = recorded_migrations(script)
    if not recorded:
        return None
    try:
        changes = changes_since(recorded, using)
    except ScriptError as error:
        raise ScriptError(f"{script}: {error}; nothing was loaded") from None
    if changes.data_migrations:
        raise ScriptError(
            f"{script}: it was written at {_state(recorded)}; since then {', '.join(changes.data_migrations)} "
            "changed rows with code, which a load cannot replay on the script's values: load it into a database "
            "at that state and migrate it, or dump again; nothing was loaded"
        )
    return changes or None


def _state(recorded: dict[str, list[str]]) -> str:
    return ", ".join(f"{app} {name}" for app, names in sorted(recorded.items()) for name in names)


def _run_whole(code: types.CodeType, namespace: dict[str, object], using: str) -> None:
    exec(code, namespace)
    run = namespace.get("run")
    if callable(run):
        if "using" in inspect.signature(run).parameters:
            run(using=using)
        else:
            run()
