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


def _code_block(rst: str, marker: str) -> list[str]:
    """The lines of the ``code-block`` that holds ``marker``, unindented, without ``...``."""
    lines = rst.splitlines()
    at = next(n for n, line in enumerate(lines) if marker in line)
    start = max(n for n in range(at) if lines[n].startswith(".. code-block::")) + 1
    block = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return [line for line in block if line.strip() and line.strip() != "..."]


def test_the_grow_demo_shows_what_the_commands_write(tmp_path: Path) -> None:
    """docs/generate.rst: 20 real authors grown to 2,000, by the commands it gives."""
    example = tmp_path / "example"
    ignore = shutil.ignore_patterns("*.sqlite3", "authors_data.py", "__pycache__")
    shutil.copytree(ROOT / "example", example, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUMPSCRIPT_", "PYTHONPATH"))}
    page = (ROOT / "docs" / "generate.rst").read_text(encoding="utf-8")
    commands = [line.strip().split() for line in page.split("From 20 real rows to 2,000")[1].splitlines()]
    commands = [command for command in commands if command[:1] == ["python"]][:5]
    assert len(commands) == 5
    migrate = ["python", "manage.py", "migrate", "-v", "0"]
    for command in [migrate, [*migrate, "--database", "fresh"], *commands]:
        done = subprocess.run([sys.executable, *command[1:]], cwd=example, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stderr[-2000:])
    assert "Created 2000 polls.Author" in done.stdout
    script = (example / "authors_data.py").read_text(encoding="utf-8").splitlines()
    missing = [line for line in _code_block(page, "def run(") if line not in script]
    assert not missing, f"lines of docs/generate.rst that the script does not have: {missing}"
