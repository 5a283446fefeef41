"""The same flows through a real, independent editor: Neovim's built-in LSP client, headless.

Needs ``nvim`` (Debian's ``neovim`` package); without it the tests say so and skip, except
under ``CI=true`` where a missing Neovim is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TESTS, Databases
from dumpscript import DumpOptions
from dumpscript.transforms import fold_loop, insert_dump
from testproject.testapp import models as m

NVIM = shutil.which("nvim")
if NVIM is None and os.environ.get("CI") == "true":
    raise RuntimeError("Neovim (nvim) not found: install Debian's neovim package (CI=true: a missing one is a failure)")
pytestmark = [
    pytest.mark.once,  # runs on the default Python/Django pair only (noxfile)
    pytest.mark.skipif(NVIM is None, reason="Neovim (nvim) not found: install the neovim package to run these"),
]

SCRIPT = """\
from testproject.testapp.models import Tag


def run(using):
    tag_1 = Tag(name="red")
    tag_2 = Tag(name="green")
    tag_3 = Tag(name="blue")
    Tag.objects.using(using).bulk_create([tag_1, tag_2, tag_3])
    # testapp.Author rows:

"""


def _neovim(dbs: Databases, path: Path, line: int, col: int, prefix: str) -> list[str]:
    report = path.with_suffix(".report")
    env = dict(dbs.env)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="testproject.settings",
        DS_FILE=str(path), DS_LINE=str(line), DS_COL=str(col), DS_PREFIX=prefix, DS_REPORT=str(report),
        DS_PYTHON=sys.executable, DS_ROOT=str(path.parent), HOME=str(path.parent),
    )  # fmt: skip
    assert NVIM is not None
    subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {TESTS / 'nvim' / 'code_action.lua'}"],
        env=env, cwd=path.parent, timeout=120, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return report.read_text(encoding="utf-8").splitlines()


def test_neovim_converts_a_run_to_a_loop(dbs: Databases) -> None:
    path = dbs.workdir / "tags_data.py"
    path.write_text(SCRIPT, encoding="utf-8")
    report = _neovim(dbs, path, 6, 4, "Convert to generator loop")
    assert "initialized true" in report
    assert "chose Convert to generator loop (3 Tag blocks)" in report
    assert "changed true" in report
    assert path.read_text(encoding="utf-8") == fold_loop(SCRIPT, 6).text


def test_neovim_dumps_rows_here(dbs: Databases) -> None:
    m.Author.objects.create(name="Ann", email="ann@example.com")
    path = dbs.workdir / "authors_data.py"
    path.write_text(SCRIPT, encoding="utf-8")
    report = _neovim(dbs, path, 9, 8, "Dump Author rows here")
    assert "chose Dump Author rows here (1 row + the rows they refer to)" in report, report
    assert "changed true" in report
    assert path.read_text(encoding="utf-8") == insert_dump(SCRIPT, "testapp.Author", line=10,
                                                           options=DumpOptions(limit=1000)).text  # fmt: skip
