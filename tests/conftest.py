"""Test setup: real databases (SQLite files, or a PostgreSQL server started here).

``DUMPSCRIPT_DB=sqlite`` (default) or ``postgres`` picks the backend for the whole run.
Each test that asks for ``dbs`` gets two fresh, migrated databases, ``default`` and
``other``, copied from a template migrated once per run; ``manage.py`` subprocesses see the
same databases through environment variables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
BACKEND = os.environ.setdefault("DUMPSCRIPT_DB", "sqlite")
# The language-server tests are async tests that also fill databases with the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
_state: dict[str, object] = {}
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
"""The pytest-xdist worker this process is (``gw0``…): its PostgreSQL databases carry the name."""


def pytest_configure(config: pytest.Config) -> None:
    if BACKEND == "postgres" and "DUMPSCRIPT_PG_HOST" not in os.environ:
        import pgserver

        try:
            server = pgserver.start()
        except pgserver.PostgresNotFound as error:
            if os.environ.get("CI") == "true":
                raise pytest.UsageError(f"{error} (CI=true: a missing PostgreSQL is a failure)") from None
            print(f"\nSKIPPING the PostgreSQL run: {error}\n", file=sys.stderr)
            _state["skip_all"] = str(error)
        else:
            _state["server"] = server
            os.environ["DUMPSCRIPT_PG_HOST"] = server.host
            os.environ["DUMPSCRIPT_PG_PORT"] = str(server.port)
    import django

    django.setup()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "skip_all" in _state:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=str(_state["skip_all"])))
    for item in items:
        if item.get_closest_marker("postgres_only") and BACKEND != "postgres":
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only (run with DUMPSCRIPT_DB=postgres)"))
        if item.get_closest_marker("sqlite_only") and BACKEND != "sqlite":
            item.add_marker(pytest.mark.skip(reason="SQLite only"))


def pytest_unconfigure(config: pytest.Config) -> None:
    server = _state.pop("server", None)
    if server is not None:
        server.stop()  # type: ignore[attr-defined]


@dataclass
class Databases:
    """Two fresh databases: ``default`` (filled by the test) and ``other`` (the load target)."""

    names: dict[str, str]
    workdir: Path

    @property
    def env(self) -> dict[str, str]:
        """Environment for ``manage.py`` subprocesses that use the same databases."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
        for alias, name in self.names.items():
            env[f"DUMPSCRIPT_{alias.upper()}_NAME"] = name
        return env

    def manage(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real ``tests/manage.py`` with these databases."""
        return subprocess.run(
            [sys.executable, str(TESTS / "manage.py"), *args],
            cwd=cwd or self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )


def dump(*labels: str, using: str = "default", **options: object) -> str:
    """The script of ``labels`` read from database ``using``, with ``DumpOptions(**options)``."""
    from dumpscript import DumpOptions, dump_script

    return dump_script(*labels, options=DumpOptions(using=using, **options))  # type: ignore[arg-type]


def write(dbs: Databases, text: str, name: str = "testapp_data.py") -> Path:
    """``text`` as the script ``name`` in the test's folder."""
    path = dbs.workdir / name
    path.write_text(text, encoding="utf-8")
    return path


def _switch(alias: str, name: str) -> None:
    from django.db import connections

    connection = connections[alias]
    connection.close()
    connection.settings_dict["NAME"] = name


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=os.environ["DUMPSCRIPT_PG_HOST"],
        port=os.environ["DUMPSCRIPT_PG_PORT"],
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(sql)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    from django.core.management import call_command

    if BACKEND == "postgres":
        name = f"dumpscript_template_{WORKER}"
        _pg_admin(f"DROP DATABASE IF EXISTS {name}")
        _pg_admin(f"CREATE DATABASE {name}")
    else:
        name = str(tmp_path_factory.mktemp("template") / "template.sqlite3")
    _switch("default", name)
    call_command("migrate", database="default", verbosity=0)
    _switch("default", "unused")
    return name


_counter = iter(range(1, 10**9))


@pytest.fixture
def dbs(template: str, tmp_path: Path) -> Iterator[Databases]:
    from django.contrib.contenttypes.models import ContentType

    names = {}
    number = next(_counter)
    for alias in ("default", "other"):
        if BACKEND == "postgres":
            name = f"dumpscript_{WORKER}_t{number}_{alias}"
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            _pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        else:
            name = str(tmp_path / f"{alias}.sqlite3")
            shutil.copyfile(template, name)
        _switch(alias, name)
        names[alias] = name
    ContentType.objects.clear_cache()
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    yield Databases(names, workdir)
    for alias in names:
        _switch(alias, "unused")
    if BACKEND == "postgres":
        for name in names.values():
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # connections an async test left open
