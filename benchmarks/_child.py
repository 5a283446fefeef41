"""One measured step of the benchmark, run in its own process by ``bench.py``.

Prints a JSON line with the number of SQL queries the step made (on every database).
"""

from __future__ import annotations

import io
import json
import os
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402

queries = 0
FORKED = Path(os.environ.get("TMPDIR", "/tmp")) / f"dumpscript-bench-queries-{os.getpid()}"
"""Queries made by a process this one forks (``dumpscript --workers 2``), one line each."""
_forked = False


def _count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    global queries
    queries += 1
    if _forked:
        with FORKED.open("a") as log:
            log.write("1\n")
    return execute(sql, params, many, context)


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def main(step: str, *args: str) -> None:
    global queries
    for alias in connections:
        connections[alias].execute_wrappers.append(_count)
    if step == "build":  # the hand-written bulk_create
        from testproject import bulk

        bulk.build(int(args[0]), using=args[1])
    elif step == "dumpdata":
        call_command("dumpdata", "testapp", output=args[0], verbosity=0)
    elif step == "loaddata":
        call_command("loaddata", args[0], database="other", verbosity=0)
    elif step == "dumpscript":
        call_command("dumpscript", "testapp", output=args[0], verbosity=0)
    elif step == "loadscript":
        call_command("loadscript", args[0], database="other", verbosity=0)
    elif step == "ext-dump":
        from django_extensions.management.commands.dumpscript import Command

        out = io.StringIO()
        call_command(Command(), "testapp", stdout=out)
        Path(args[0]).write_text(out.getvalue(), encoding="utf-8")
    elif step == "ext-load":  # what runscript does: import the script, call run(), one transaction
        with transaction.atomic():
            runpy.run_path(args[0])["run"]()
    elif step == "compare":
        from testproject.snapshot import Snapshot

        same = Snapshot("default").contents() == Snapshot("other").contents()
        print(json.dumps({"same": same}))
        return
    else:
        raise SystemExit(f"unknown step {step}")
    if FORKED.exists():
        queries += len(FORKED.read_text().splitlines())
        FORKED.unlink()
    print(json.dumps({"queries": queries}))


if __name__ == "__main__":
    main(*sys.argv[1:])
