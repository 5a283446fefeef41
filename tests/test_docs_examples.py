"""The documentation shows real output: the quickstart's script is what ``dumpscript`` writes
for the bundled example site (it showed ``poll_1.tags.add(tag_1)`` long after scripts wrote
through-model rows)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Heavy: on the default Python/Django pair only (noxfile); and the example site is SQLite
# whatever DUMPSCRIPT_DB says, so once, in the SQLite session.
pytestmark = [pytest.mark.once, pytest.mark.sqlite_only]

ROOT = Path(__file__).resolve().parent.parent


def _missing_in_order(shown: list[str], script: list[str]) -> list[str]:
    """The lines of ``shown`` that ``script`` does not have in the same order (each one after
    the line that matched the one before it)."""
    missing, at = [], 0
    for line in shown:
        try:
            at = script.index(line, at) + 1
        except ValueError:
            missing.append(line)
    return missing


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
    missing = _missing_in_order(_run_block(quickstart), script)
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
    missing = _missing_in_order(_code_block(page, "def run("), script)
    assert not missing, f"lines of docs/generate.rst that the script does not have: {missing}"


def _commands(text: str) -> list[list[str]]:
    """The ``python manage.py …`` and ``python -m dumpscript …`` commands of a page, in order,
    each without its comment (``&&`` chains split)."""
    import shlex

    found = []
    for line in text.splitlines():
        line = line.strip().removeprefix("$ ")
        if not line.startswith(("python manage.py ", "python -m dumpscript ")):
            continue
        for part in line.split("  #")[0].split("&&"):
            found.append(shlex.split(part))
    return found


def _example_site(tmp_path: Path, *setup: str) -> tuple[Path, dict[str, str]]:
    """A copy of the bundled example site: both databases migrated, the sample data in
    ``default``, then the ``setup`` commands."""
    example = tmp_path / "example"
    ignore = shutil.ignore_patterns("*.sqlite3", "polls_data.py", "authors_data.py", "tags_data.py", "__pycache__")
    shutil.copytree(ROOT / "example", example, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUMPSCRIPT_", "PYTHONPATH"))}
    prepare = ["migrate -v 0", "migrate -v 0 --database fresh", "fill_sample_data", *setup]
    _run_all([["python", "manage.py", *command.split()] for command in prepare], example, env)
    return example, env


def _run_all(commands: list[list[str]], example: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    results = []
    for command in commands:
        answer = "yes\n" if "--replace" in command else ""  # the question --replace asks
        done = subprocess.run(
            [sys.executable, *command[1:]], cwd=example, env=env, input=answer, capture_output=True, text=True
        )
        assert done.returncode == 0, (command, done.stdout[-1000:], done.stderr[-2000:])
        results.append(done)
    return results


def test_every_command_of_the_readme_runs_on_the_example_site(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _commands(readme.split("## Use it in your project")[1].split("## Layout")[0])
    assert len(commands) >= 12
    example, env = _example_site(tmp_path)
    results = _run_all(commands, example, env)
    by_command = {" ".join(command): result for command, result in zip(commands, results, strict=True)}
    fold = by_command["python -m dumpscript fold polls_data.py --lines 50-64 --write"]
    assert fold.stderr.startswith("Folded 3 Poll blocks (lines 50-64) into a loop")
    insert = by_command["python manage.py dumpscript polls.Poll --pks 1 --into tags_data.py --dry-run"]
    assert "polls.Choice: 3, polls.Comment: 2, polls.Poll: 1" in insert.stderr  # its choices and comments
    assert insert.stderr.strip().endswith("reused 1 the script already creates (tag_1)")  # its tag


def test_every_command_of_the_transforms_page_runs_with_the_output_it_shows(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "transforms.rst").read_text(encoding="utf-8")
    commands = _commands(page)
    assert len(commands) == 7
    example, env = _example_site(tmp_path, "dumpscript polls -o polls_data.py")  # the quickstart's dump
    results = _run_all(commands, example, env)
    assert results[0].stdout.startswith("--- polls_data.py") and "Folded 3 Poll blocks (lines 50-64)" in page
    assert results[1].stderr.startswith("Folded 3 Poll blocks (lines 50-64) into a loop")
    assert "The loop at line 51 now creates 2,000 Poll objects" in results[2].stderr
    flat = " ".join(page.split())
    for result in results[-2:]:
        summary = result.stderr.strip().removesuffix("; wrote tags_data.py")
        assert summary in flat, summary
    loaded = subprocess.run(
        [sys.executable, "manage.py", "loadscript", "tags_data.py", "--database", "fresh", "--replace", "--no-input"],
        cwd=example,
        env=env,
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stderr


def _shown(text: str) -> list[tuple[list[str], list[str], bool]]:
    """Each ``$ python …`` command of a page's literal blocks with the output shown under it (up
    to the next command or the end of the block; ``...`` lines dropped), and whether the page
    shows it failing (its output starts with ``CommandError`` or says ``nothing was loaded``).
    Synopses (``[options]``, ``PATH``) are not ``$`` lines."""
    import shlex

    found: list[tuple[list[str], list[str], bool]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        indented = line.startswith("    ")
        if indented and stripped.startswith("$ python "):
            current = []
            found.append((shlex.split(stripped[2:].split("  #")[0]), current, False))
        elif indented and stripped and current is not None:
            if stripped != "...":
                current.append(stripped)
        elif not indented and stripped:
            current = None
    return [
        (command, output, bool(output) and (output[0].startswith("CommandError") or "nothing was loaded" in output[0]))
        for command, output, _ in found
    ]


@pytest.mark.parametrize(
    ("page", "setup"),
    [
        ("quickstart.rst", ["fill_sample_data"]),
        ("subsets.rst", ["fill_sample_data"]),
        ("generate.rst", ["fill_sample_data --authors 20", "dumpscript polls.Author -o authors_data.py"]),
    ],
)
def test_every_shown_command_of_a_page_runs_with_the_output_it_shows(
    tmp_path: Path, page: str, setup: list[str]
) -> None:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    shown = _shown(text)
    assert shown, page
    example = tmp_path / "example"
    ignore = shutil.ignore_patterns("*.sqlite3", "polls_data.py", "authors_data.py", "tags_data.py", "__pycache__")
    shutil.copytree(ROOT / "example", example, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUMPSCRIPT_", "PYTHONPATH"))}
    prepare = ["migrate -v 0", "migrate -v 0 --database fresh", *setup]
    _run_all([["python", "manage.py", *command.split()] for command in prepare], example, env)
    for command, output, fails in shown:
        answer = "yes\n" if "--replace" in command else ""
        done = subprocess.run(
            [sys.executable, *command[1:]], cwd=example, env=env, input=answer, capture_output=True, text=True
        )
        assert (done.returncode != 0) == fails, (command, done.stdout[-1000:], done.stderr[-2000:])
        printed = (done.stdout + done.stderr).splitlines()
        missing = _missing_in_order(output, [line.strip() for line in printed])
        assert not missing, (command, missing, printed[-20:])
