"""The house rules a review of the code holds it to, checked on every run: in ``packages/`` and
``vscode-extension/src/`` no module over 600 lines, no class over 300, no function over 80;
no ``exec`` or ``eval`` of a user's script outside the load itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sorted((ROOT / "packages").glob("*/src/**/*.py"))
TYPESCRIPT = sorted((ROOT / "vscode-extension" / "src").glob("*.ts"))
CORE = ROOT / "packages" / "dumpscript" / "src" / "dumpscript"
LOAD = CORE / "load"
NOT_A_SCRIPT = {
    CORE / "writer" / "_arguments.py": "compiles the row writer the writer itself generates",
    CORE / "generate" / "_anonymize.py": "a generator of made-up values (inferred, or DUMPSCRIPT_ANONYMIZE's)",
}
"""Where code that is not a user's script is compiled, and why."""


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", [*PYTHON, *TYPESCRIPT], ids=_name)
def test_no_module_over_600_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 600


def _too_long(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        limit = 300 if isinstance(node, ast.ClassDef) else 80
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found.append(f"{node.name} (line {node.lineno}): {lines} lines, more than {limit}")
    return found


@pytest.mark.parametrize("path", PYTHON, ids=_name)
def test_no_class_over_300_lines_no_function_over_80(path: Path) -> None:
    assert _too_long(path) == []


_TS_FUNCTION = re.compile(
    r"^\s*(?:export\s+)?(?:async\s+)?(?:function\s+(\w+)|(?:const|let)\s+(\w+)\s*=\s*(?:async\s*)?\(.*=>\s*\{$"
    r"|(?:(?:private|public|static|async)\s+)*(\w+)\s*\([^;]*\)\s*(?::[^=;{]+)?\{$)"
)


def _ts_too_long(path: Path) -> list[str]:
    """Functions (declarations, arrow functions bound to a name, methods) whose braces span
    more than 80 lines."""
    lines = path.read_text().splitlines()
    found = []
    for number, line in enumerate(lines):
        match = _TS_FUNCTION.match(line)
        if not match or match.group(3) in {"if", "for", "while", "switch", "catch"}:
            continue
        depth, end = 0, number
        for end in range(number, len(lines)):
            depth += lines[end].count("{") - lines[end].count("}")
            if depth <= 0 and "{" in "".join(lines[number : end + 1]):
                break
        if end - number + 1 > 80:
            name = next(group for group in match.groups() if group)
            found.append(f"{name} (line {number + 1}): {end - number + 1} lines")
    return found


@pytest.mark.parametrize("path", TYPESCRIPT, ids=_name)
def test_no_typescript_function_over_80_lines(path: Path) -> None:
    assert _ts_too_long(path) == []


def test_no_exec_or_eval_outside_the_load() -> None:
    found = []
    for path in PYTHON:
        if LOAD in path.parents or path in NOT_A_SCRIPT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"exec", "eval"}:
                found.append(f"{_name(path)}:{node.lineno}: {node.func.id}")
    assert found == []
