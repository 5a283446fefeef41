"""The documentation shows real output: the quickstart's script is what ``dumpscript`` writes
for the bundled example site (it showed ``poll_1.tags.add(tag_1)`` long after scripts wrote
through-model rows)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_block(rst: str) -> list[str]:
    """The lines of the code block that holds ``def run(``, unindented, without ``...``."""
    lines = rst.splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip().startswith("def run("))
    block = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return [line for line in block if line.strip() and line.strip() != "..."]


def test_the_quickstart_shows_what_dumpscript_writes_for_the_example_site(tmp_path: Path) -> None:
    example = tmp_path / "example"
    shutil.copytree(
        ROOT / "example", example, ignore=shutil.ignore_patterns("*.sqlite3", "polls_data.py", "__pycache__")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUMPSCRIPT_", "PYTHONPATH"))}
    done = subprocess.run(
        [sys.executable, "demo.py", "--quiet"], cwd=example, env=env, timeout=300, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    script = (example / "polls_data.py").read_text(encoding="utf-8").splitlines()
    quickstart = (ROOT / "docs" / "quickstart.rst").read_text(encoding="utf-8")
    missing = [line for line in _run_block(quickstart) if line not in script]
    assert not missing, f"lines of docs/quickstart.rst that the script does not have: {missing}"
    assert f"Wrote polls_data.py ({len(script)} lines)" in quickstart
