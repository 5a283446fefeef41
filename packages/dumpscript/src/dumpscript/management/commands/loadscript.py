"""``manage.py loadscript``: thin; parses arguments and calls :func:`dumpscript.load_script`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from dumpscript import DumpscriptError, load_script
from dumpscript._progress import Progress


class Command(BaseCommand):
    help = "Run a dumpscript script (or any script with a run(using) function) in one transaction."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the script file")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database to load into")
        parser.add_argument("--dry-run", action="store_true", help="run the script, report, then roll back")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="first delete the existing rows of the models the script creates (same transaction)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stream: Any = getattr(self.stderr, "_out", sys.stderr)  # the stream under Django's wrapper
        progress = Progress.for_terminal(stream, options["verbosity"])
        try:
            result = load_script(
                options["path"],
                using=options["database"],
                dry_run=options["dry_run"],
                replace=options["replace"],
                progress=progress,
            )
        except DumpscriptError as error:
            raise CommandError(str(error)) from None
        if options["verbosity"] < 1:
            return
        for label, count in sorted(result.deleted.items()):
            self.stdout.write(f"Deleted {count} {label}")
        verb = "Would create" if result.dry_run else "Created"
        for label, count in result.created.items():
            self.stdout.write(f"{verb} {count} {label}")
        summary = f"{verb} {result.total} rows from {options['path']}"
        if result.dry_run:
            summary += " (dry run: rolled back, nothing written)"
        self.stdout.write(self.style.SUCCESS(summary))
