"""``manage.py dumpscript``: thin; parses arguments and calls :func:`dumpscript.dump_script`."""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from dumpscript import DumpOptions, DumpscriptError, preview_subset, write_script
from dumpscript._api import write_stream
from dumpscript._progress import Progress
from dumpscript.files import write_atomic
from dumpscript.options import options_from


class Command(BaseCommand):
    help = (
        "Write a Python script that recreates the rows of the given apps or app.Model labels "
        "through the Django ORM (all apps when none is given)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="*", metavar="app_label[.ModelName]")
        self._output_arguments(parser.add_argument_group("where the script goes"))
        self._selection_arguments(parser.add_argument_group("which rows"))
        self._subset_arguments(parser.add_argument_group("what belongs to picked rows (--pks, --filter)"))
        self._values_arguments(parser.add_argument_group("how the script creates the rows"))
        self._insertion_arguments(parser.add_argument_group("insert into an existing script"))

    @staticmethod
    def _output_arguments(parser: Any) -> None:
        parser.add_argument(
            "-o",
            "--output",
            help="write to this file (atomically) instead of stdout; an existing file is replaced only if "
            "dumpscript wrote it",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="with --output: replace the file even if dumpscript did not write it",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database to read from")
        parser.add_argument(
            "--workers",
            type=int,
            choices=[1, 2],
            help="processes that write a large script (default: 2 on a machine with several cores)",
        )

    @staticmethod
    def _selection_arguments(parser: Any) -> None:
        parser.add_argument(
            "-e",
            "--exclude",
            action="append",
            default=[],
            metavar="app_label[.ModelName]",
            help="leave out an app or model (repeat for more)",
        )
        parser.add_argument(
            "--natural-foreign",
            action="store_true",
            help="look up objects outside the selection by natural key instead of including them",
        )
        parser.add_argument(
            "--default-manager",
            action="store_true",
            help="select rows through each model's default manager (as dumpdata does without --all), "
            "leaving out rows it hides; by default every row is dumped",
        )
        parser.add_argument(
            "--lookup",
            action="append",
            default=[],
            metavar="app.Model=field[,field]",
            help="find objects of this model outside the selection by these unique fields when the script "
            "runs, instead of creating them (repeat for more models)",
        )
        parser.add_argument("--pks", help="only these primary keys, comma separated (one app.Model label)")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="FIELD__LOOKUP=VALUE",
            help="only the rows of the selected models that match this queryset lookup (repeat: all must "
            "match); __in takes comma-separated values, __isnull true or false",
        )
        parser.add_argument(
            "--limit", type=int, metavar="N", help="at most N rows of each selected model (the first by primary key)"
        )

    @staticmethod
    def _subset_arguments(parser: Any) -> None:
        parser.add_argument(
            "--dependents",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="add the rows that belong to the selected ones (what a delete would cascade to, and the "
            "relations --follow names); default: on when rows are picked with --pks or --filter",
        )
        parser.add_argument(
            "--follow",
            action="append",
            default=[],
            metavar="app.Model.relation",
            help="also follow this reverse relation (accessor or related query name, e.g. shop.Customer.reviews)",
        )
        parser.add_argument(
            "--no-follow",
            action="append",
            default=[],
            metavar="app[.Model[.relation]]",
            help="do not follow this reverse relation, nor into this model or app",
        )
        parser.add_argument(
            "--depth", type=int, metavar="N", help="follow at most N reverse relations from the selected rows"
        )
        parser.add_argument(
            "--preview",
            "--plan",
            dest="preview",
            action="store_true",
            help="print the rows the selection holds, as a tree of the relations followed and not followed; "
            "write no script (counts and keys only: no row is read)",
        )

    @staticmethod
    def _values_arguments(parser: Any) -> None:
        parser.add_argument("--keep-pks", action="store_true", help="write auto-increment primary keys too")
        parser.add_argument(
            "--save-each",
            action="store_true",
            help="save each object with save() (sends pre_save/post_save) instead of bulk_create batches",
        )
        parser.add_argument(
            "--upsert",
            action="store_true",
            help="a script to load again and again: match objects already in the database by a unique "
            "field (else all fields) and update them",
        )
        parser.add_argument(
            "--anonymize",
            action="store_true",
            help="write fake values in place of personal data (names, e-mails, phones, addresses, free text, "
            "and the fields DUMPSCRIPT_ANONYMIZE names); needs Faker",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="with --anonymize: refuse while a text field that may hold personal data has no rule",
        )
        parser.add_argument(
            "--all-fields",
            action="store_true",
            help="write every field, also those whose value is the one the model sets by default",
        )

    @staticmethod
    def _insertion_arguments(parser: Any) -> None:
        parser.add_argument(
            "--into",
            metavar="SCRIPT",
            help="insert the rows into this existing script (imports merged, names continued, objects it "
            "already creates reused) instead of writing a new one",
        )
        parser.add_argument(
            "--at",
            type=int,
            metavar="LINE",
            help="with --into: the line the new code starts at (default: the end of the script's run())",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="with --into: print the change as a diff, write nothing"
        )

    def handle(self, *labels: str, **options: Any) -> None:
        try:
            dump_options = options_from(
                using=options["database"],
                exclude=options["exclude"],
                keep_pks=options["keep_pks"],
                natural_foreign=options["natural_foreign"],
                use_default_manager=options["default_manager"],
                pks=options["pks"],
                limit=options["limit"],
                workers=options["workers"],
                save_each=options["save_each"],
                all_fields=options["all_fields"],
                upsert=options["upsert"],
                anonymize=options["anonymize"],
                strict=options["strict"],
                lookups=options["lookup"],
                filter=options["filter"],
                dependents=options["dependents"],
                follow=options["follow"],
                no_follow=options["no_follow"],
                depth=options["depth"],
            )
        except DumpscriptError as error:
            raise CommandError(str(error)) from None
        output = options["output"]
        stream: Any = getattr(self.stderr, "_out", sys.stderr)  # the stream under Django's wrapper
        progress = Progress.for_terminal(stream, options["verbosity"])
        if options["into"] and output:
            raise CommandError("Give either --into SCRIPT (insert into a script) or --output FILE, not both")
        if (options["at"] is not None or options["dry_run"]) and not options["into"]:
            raise CommandError("--at and --dry-run go with --into SCRIPT")
        if options["force"] and not output:
            raise CommandError("--force goes with --output FILE")
        if options["preview"] and (options["into"] or output):
            raise CommandError("--preview prints the selection and writes no script: drop --output and --into")
        try:
            if options["preview"]:
                self.stdout.write(preview_subset(*labels, options=dump_options).text(), ending="")
            elif options["into"]:
                self._insert(Path(options["into"]), labels, dump_options, options)
            elif output:
                count = write_script(output, *labels, options=dump_options, progress=progress, force=options["force"])
                if options["verbosity"] >= 1:
                    self.stderr.write(f"Wrote {output} ({count} lines)")
            else:
                write_stream(_Verbatim(self.stdout), *labels, options=dump_options, progress=progress)
        except DumpscriptError as error:
            raise CommandError(str(error)) from None
        except BrokenPipeError:  # `dumpscript app | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(1)

    def _insert(self, path: Path, labels: tuple[str, ...], dump_options: DumpOptions, options: dict[str, Any]) -> None:
        from dumpscript.transforms.insert_dump import insert_dump

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read script {path}: {getattr(error, 'strerror', None) or error}") from None
        change = insert_dump(text, *labels, line=options["at"], options=dump_options, name=str(path))
        if options["dry_run"]:
            diff = difflib.unified_diff(
                text.splitlines(keepends=True), change.text.splitlines(keepends=True), str(path), str(path)
            )
            self.stdout.write("".join(diff), ending="")
        else:
            write_atomic(path, change.text)
        if options["verbosity"] >= 1:
            self.stderr.write(change.summary + ("" if options["dry_run"] else f"; wrote {path}"))


class _Verbatim(io.TextIOBase):
    """Django's stdout wrapper, writing text as given (its ``write`` adds a newline)."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> int:
        self.wrapper.write(text, ending="")
        return len(text)
