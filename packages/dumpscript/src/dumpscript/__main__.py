"""``python -m dumpscript``: script transforms for people without an editor integration.

::

    python -m dumpscript fold SCRIPT --lines 10-80 [--write]
    python -m dumpscript grow SCRIPT --line 12 --count 2000 [--settings mysite.settings] [--write]
    python -m dumpscript upgrade SCRIPT [--settings mysite.settings] [--write]

Without ``--write`` the change is printed as a unified diff; with it the script is replaced
atomically (never left half-written). Errors are one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from dumpscript.errors import DumpscriptError
from dumpscript.transforms import Change, fold_loop, grow_loop, parse_lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dumpscript", description="Transform a dumpscript script.")
    commands = parser.add_subparsers(dest="command", required=True)
    fold = commands.add_parser("fold", help="fold a run of similar object blocks into a for loop")
    fold.add_argument("script", type=Path)
    fold.add_argument("--lines", required=True, help="FIRST-LAST (1-based, both included), or one line inside a run")
    fold.add_argument("--write", action="store_true", help="change the file instead of printing a diff")
    grow = commands.add_parser("grow", help="set how many objects a range(N) loop creates")
    grow.add_argument("script", type=Path)
    grow.add_argument("--line", required=True, type=int, help="a line of the loop")
    grow.add_argument("--count", required=True, type=int, help="how many objects the loop creates")
    grow.add_argument(
        "--settings",
        help="Django settings module, for a loop over captured rows (their fields' types); "
        "default: $DJANGO_SETTINGS_MODULE",
    )
    grow.add_argument("--seed", type=int, default=0, help="the seed of the made-up values (default 0)")
    grow.add_argument("--write", action="store_true", help="change the file instead of printing a diff")
    upgrade = commands.add_parser(
        "upgrade", help="rewrite a script to the current models along the migrations written since its dump"
    )
    upgrade.add_argument("script", type=Path)
    upgrade.add_argument("--settings", help="Django settings module; default: $DJANGO_SETTINGS_MODULE")
    upgrade.add_argument("--write", action="store_true", help="change the file instead of printing a diff")
    return parser


def _upgrade(path: Path, text: str, settings: str | None) -> Change:
    from dumpscript.load._header import recorded_migrations
    from dumpscript.replay import changes_since
    from dumpscript.transforms.upgrade import upgrade_script

    if not _setup_django(settings):
        raise DumpscriptError("upgrading a script needs the Django project: give --settings")
    recorded = recorded_migrations(path)
    if not recorded:
        raise DumpscriptError(
            f"{path} records no migration state (MIGRATIONS): written by hand or by an earlier release, it has "
            "nothing to upgrade along"
        )
    try:
        changes = changes_since(recorded, None)
    except DumpscriptError as error:
        raise DumpscriptError(f"{path}: {error}") from None
    return upgrade_script(text, changes, name=str(path))


def _setup_django(settings: str | None) -> bool:
    """Set the project up when a settings module is known (run from the project's folder);
    whether it was."""
    import os

    if settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return False
    sys.path.insert(0, os.getcwd())
    try:
        import django

        django.setup()
    except Exception as error:
        raise DumpscriptError(
            f"Cannot set up Django with {os.environ['DJANGO_SETTINGS_MODULE']}: {type(error).__name__}: {error}"
        ) from None
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DumpscriptError(f"Cannot read script {path}: {getattr(error, 'strerror', None) or error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        text = _read(args.script)
        change: Change
        if args.command == "fold":
            first, last = parse_lines(args.lines)
            change = fold_loop(text, first, last, name=str(args.script))
        elif args.command == "upgrade":
            change = _upgrade(args.script, text, args.settings)
        else:
            from dumpscript.transforms.grow_table import NeedsProject

            if args.settings:
                _setup_django(args.settings)
            try:
                change = grow_loop(text, args.line, args.count, name=str(args.script), seed=args.seed)
            except NeedsProject:
                if args.settings or not _setup_django(None):
                    raise
                change = grow_loop(text, args.line, args.count, name=str(args.script), seed=args.seed)
        if args.write:
            from dumpscript.files import write_atomic

            write_atomic(args.script, change.text, edit=True)
            print(f"{change.summary}; wrote {args.script}", file=sys.stderr)
        else:
            name = str(args.script)
            diff = difflib.unified_diff(
                text.splitlines(keepends=True), change.text.splitlines(keepends=True), name, name
            )
            sys.stdout.writelines(diff)
            print(change.summary, file=sys.stderr)
    except DumpscriptError as error:
        print(f"dumpscript: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
