"""``manage.py loadscript``: thin; parses arguments and calls :func:`dumpscript.load_script`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from dumpscript import DumpscriptError, load_script
from dumpscript._progress import Progress
from dumpscript.load import ReplacePreview, replace_preview


class Command(BaseCommand):
    help = "Run a dumpscript script (or any script with a run(using) function) in one transaction."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the script file")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database to load into")
        parser.add_argument("--dry-run", action="store_true", help="run the script, report, then roll back")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="first delete the existing rows of the models the script creates, and what cascades from "
            "them (same transaction); says what it deletes and asks first",
        )
        parser.add_argument(
            "--drop-unknown-fields",
            action="store_true",
            help="leave out values of fields the models no longer have (removed or renamed since the script "
            "was written), saying how many per field; by default such a value stops the load",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="with --replace: do not ask before deleting",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stream: Any = getattr(self.stderr, "_out", sys.stderr)  # the stream under Django's wrapper
        progress = Progress.for_terminal(stream, options["verbosity"])
        try:
            expected = self._confirm_replace(options) if options["replace"] and not options["dry_run"] else None
            result = load_script(
                options["path"],
                using=options["database"],
                dry_run=options["dry_run"],
                replace=options["replace"],
                expect_deleted=expected,
                drop_unknown_fields=options["drop_unknown_fields"],
                progress=progress,
            )
        except DumpscriptError as error:
            raise CommandError(str(error)) from None
        if options["verbosity"] < 1:
            return
        if result.deleted:
            preview = ReplacePreview(result.deleted, frozenset(result.created))
            for line in preview.lines("Would delete" if result.dry_run else "Deleted"):
                self.stdout.write(line)
        if result.replayed:
            self.stdout.write(
                f"Brought forward along {len(result.replayed)} migration{'s' if len(result.replayed) != 1 else ''} "
                f"written after the script: {', '.join(result.replayed)}"
            )
        for name, count in result.left_out.items():
            what = "row" if "(deleted in " in name else "value"
            self.stdout.write(f"Dropped {count} {what}{'s' if count != 1 else ''} of {name}")
        for name, count in result.dropped.items():
            self.stdout.write(f"Dropped {count} value{'s' if count != 1 else ''} of {name} (no such field)")
        verb = "Would create" if result.dry_run else "Created"
        for label, count in result.created.items():
            self.stdout.write(f"{verb} {count} {label}")
        summary = f"{verb} {result.total} rows from {options['path']}"
        if result.dry_run:
            summary += " (dry run: rolled back, nothing written)"
        self.stdout.write(self.style.SUCCESS(summary))

    def _confirm_replace(self, options: dict[str, Any]) -> dict[str, int]:
        """Say what ``--replace`` deletes, model by model, and ask (as ``flush`` does); the
        counts the user agreed to, which the load then holds to."""
        preview = replace_preview(options["path"], using=options["database"])
        if not preview.deleted or not options["interactive"]:
            return preview.deleted
        database = options["database"]
        self.stdout.write(
            f"--replace deletes these rows of database {database!r} before loading {options['path']}, "
            "cascades included:"
        )
        for line in preview.lines():
            self.stdout.write(f"    {line}")
        try:
            answer = input("Are you sure you want to do this?\n\n    Type 'yes' to continue, or 'no' to cancel: ")
        except EOFError:
            answer = ""
            self.stdout.write("")
        if answer.strip().lower() != "yes":
            reason = "no answer (stdin is not a terminal; --no-input deletes without asking)" if not answer else ""
            raise CommandError(f"Replace cancelled{': ' + reason if reason else ''}; nothing was deleted or loaded")
        return preview.deleted
