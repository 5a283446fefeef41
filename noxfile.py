"""Development sessions; ``nox -l`` lists them. Versions and dependencies come from pyproject.toml."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
CORE = "packages/dumpscript"
LSP = "packages/dumpscript-lsp"

# The versions the package supports, from one place: its classifiers.
_CLASSIFIERS = nox.project.load_toml(ROOT / CORE / "pyproject.toml")["project"]["classifiers"]
PYTHONS = [c.rsplit(" ", 1)[1] for c in _CLASSIFIERS if c.startswith("Programming Language :: Python :: 3.")]
DJANGOS = [c.rsplit(" ", 1)[1] for c in _CLASSIFIERS if c.startswith("Framework :: Django :: ")]
_DJANGO_PYTHONS = {"4.2": ("3.8", "3.12"), "5.2": ("3.10", "3.13"), "6.1": ("3.12", "3.14")}
"""The Pythons each Django release supports (Django's own table; 6.x needs Python 3.12+)."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


MATRIX = [
    (python, django)
    for django in DJANGOS
    for python in PYTHONS
    if _version(_DJANGO_PYTHONS[django][0]) <= _version(python) <= _version(_DJANGO_PYTHONS[django][1])
]
"""(Python, Django) pairs the package supports."""
DEFAULT = ("3.11", "5.2")
CORNERS = [("3.10", "4.2"), ("3.13", "6.1")]

# Interpreters installed with pyenv are found even when pyenv has only one version active.
_PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
for _bin in sorted(_PYENV.glob("3.*/bin"), reverse=True):
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), str(_bin)])
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")  # use the machine's Pythons, download none

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = [
    f"tests-{DEFAULT[0]}(django='{DEFAULT[1]}', db='sqlite')",
    f"tests-{DEFAULT[0]}(django='{DEFAULT[1]}', db='postgres')",
    *[f"tests-{python}(django='{django}', db='sqlite')" for python, django in CORNERS],
    "lint",
    "types",
    "docs",
    "vscode",
]
IN_CI = os.environ.get("CI") == "true"


def group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _django_spec(version: str) -> str:
    return f"django~={version}.0"


@nox.session(python=sorted({python for python, _ in MATRIX}))
@nox.parametrize("db", ["sqlite", "postgres"])
@nox.parametrize("django", sorted({django for _, django in MATRIX}))
def tests(session: nox.Session, django: str, db: str) -> None:
    """Run the test suite on one Python, one Django and one database (sqlite or postgres)."""
    if (session.python, django) not in MATRIX:
        session.skip(f"Django {django} does not support Python {session.python}")
    if db == "postgres" and not _have_postgres():
        message = "PostgreSQL server binaries (initdb) not found: install postgresql to run these tests"
        if IN_CI:
            session.error(message + " (CI=true: a missing server is a failure)")
        session.skip(message)
    # The third-party packages of the conformance corpus need Django 5.2+: on the default pair,
    # which also runs the heavy and wide tests (memory, scale, conformance, docs, Neovim) once.
    default = (session.python, django) == DEFAULT
    extra = group("conformance") if default else []
    session.install(_django_spec(django), "-e", CORE, "-e", LSP, *group("test"), *extra)
    workers = ["-n", os.environ.get("DUMPSCRIPT_TEST_WORKERS", "auto")]  # a database per worker (conftest)
    only = [] if default else ["-m", "not once"]
    session.run("pytest", *workers, *only, *session.posargs, env={"DUMPSCRIPT_DB": db})


def _have_postgres() -> bool:
    return bool(list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))) or shutil.which("initdb") is not None


@nox.session(python=DEFAULT[0])
def lint(session: nox.Session) -> None:
    """Check style and common mistakes with ruff."""
    session.install(*group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=DEFAULT[0])
def types(session: nox.Session) -> None:
    """Type-check the core package and the language server with mypy (strict, django-stubs)."""
    session.install(_django_spec(DEFAULT[1]), "-e", CORE, "-e", LSP, *group("types"))
    session.run("mypy", env={"PYTHONPATH": str(ROOT / "tests")})


@nox.session(python=DEFAULT[0])
def docs(session: nox.Session) -> None:
    """Build the documentation with Sphinx, warnings as errors."""
    session.install(_django_spec(DEFAULT[1]), "-e", CORE, "-e", LSP, *group("docs"))
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python=DEFAULT[0])
def vscode(session: nox.Session) -> None:
    """Build, lint and package the VS Code extension (.vsix), then test it in a real VS Code
    (code-server from npm on Node 24, Chromium through playwright-core) on the example site."""
    extension = ROOT / "vscode-extension"
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        missing.append("chromium (Debian's chromium package)")
    installed = (extension / ".vscode-test" / "code-server" / "node_modules" / ".bin" / "code-server").exists()
    if not installed and not Path("/usr/include/gssapi/gssapi.h").exists():
        missing.append("libkrb5-dev (Debian's package; code-server's native modules build against it)")
    if missing:
        message = f"cannot test the VS Code extension: missing {', '.join(missing)}"
        if IN_CI:
            session.error(message + " (CI=true: a missing tool is a failure)")
        session.skip(message)
    session.install(_django_spec(DEFAULT[1]), "-e", f"{CORE}[generate]", "-e", LSP)
    with session.chdir(extension):
        session.run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", external=True)
        session.run("npm", "run", "compile", external=True)
        session.run("npm", "run", "lint", external=True)
        session.run("npm", "run", "package", external=True)
        session.run("bash", "test/setup-vscode.sh", external=True)
        python = str(Path(session.virtualenv.location) / "bin" / "python")
        session.run("node", "test/run.mjs", external=True, env={"DUMPSCRIPT_PYTHON": python, "CHROMIUM": chromium})


@nox.session(python=DEFAULT[0])
@nox.parametrize("db", ["sqlite", "postgres"])
def conformance(session: nox.Session, db: str) -> None:
    """Dump → load → compare every app of the corpus (Django's test apps, contrib, third-party
    packages); prints the table."""
    if db == "postgres" and not _have_postgres():
        message = "PostgreSQL server binaries (initdb) not found: install postgresql to run the corpus on it"
        if IN_CI:
            session.error(message + " (CI=true: a missing server is a failure)")
        session.skip(message)
    session.install(_django_spec(DEFAULT[1]), "-e", CORE, *group("test"), *group("conformance"))
    with session.chdir(ROOT / "tests"):
        docs = str(ROOT / "docs" / "conformance")
        session.run(
            "python", "-m", "conformance", "--backend", db, "--docs", docs, *session.posargs, env={"PYTHONPATH": "."}
        )


@nox.session(python=DEFAULT[0])
def bench(session: nox.Session) -> None:
    """Benchmark against dumpdata/loaddata and django-extensions (``-- --sizes 10000,100000,1000000``)."""
    # The old dumpscript's scripts need python-dateutil to load.
    session.install(
        _django_spec(DEFAULT[1]),
        "-e",
        f"{CORE}[generate]",
        "-e",
        LSP,
        "Pillow",
        "django-extensions",
        "python-dateutil",
        "pytest-lsp",
    )
    session.run("python", "benchmarks/bench.py", *session.posargs)
    session.run("python", "benchmarks/grow.py")
    session.run("python", "benchmarks/transforms.py")
    session.run("python", "benchmarks/lsp.py")


@nox.session(python=DEFAULT[0])
def demo(session: nox.Session) -> None:
    """The main job on the bundled example site: fill, dumpscript, loadscript, compare."""
    session.install(_django_spec(DEFAULT[1]), "-e", CORE)
    session.run("python", "example/demo.py", *session.posargs)


if __name__ == "__main__":
    sys.exit("run with nox")
