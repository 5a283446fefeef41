"""The progress line: on a terminal only, quiet with -v 0 and when output is not a terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from conftest import TESTS, Databases
from testproject import bulk


def run_on_terminal(dbs: Databases, *args: str) -> tuple[int, str]:
    """Run manage.py with standard error on a pseudo-terminal; return the exit code and what it showed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(TESTS / "manage.py"), *args],
        cwd=dbs.workdir, env=dbs.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(timeout=300), shown.decode("utf-8", "replace")


def test_dump_and_load_show_progress_on_a_terminal(dbs: Databases) -> None:
    bulk.build(20000)
    code, shown = run_on_terminal(dbs, "dumpscript", "testapp", "-o", "big_data.py")
    assert code == 0, shown
    assert "dumpscript: reading" in shown
    assert "dumpscript: writing" in shown
    assert re.search(r"dumpscript: writing [\w.]* ?[\d,]+/[\d,]+ rows \d+%", shown)  # the total is known
    assert "\r" in shown
    assert "Wrote big_data.py" in shown
    code, shown = run_on_terminal(dbs, "loadscript", "big_data.py", "--database", "other")
    assert code == 0, shown
    assert "dumpscript: loading" in shown
    assert "rows" in shown


def test_quiet_with_verbosity_0_and_off_a_terminal(dbs: Databases) -> None:
    bulk.build(2000)
    code, shown = run_on_terminal(dbs, "dumpscript", "testapp", "-o", "big_data.py", "-v", "0")
    assert code == 0
    assert shown == ""
    result = dbs.manage("dumpscript", "testapp", "-o", "other_data.py")
    assert (
        result.stderr
        == f"Wrote other_data.py ({Path(dbs.workdir / 'other_data.py').read_text().count(chr(10))} lines)\n"
    )
