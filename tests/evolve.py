"""A throwaway Django project whose models change: the oracle of the migration tests.

A project is written to a folder (settings, ``manage.py``, the apps), its models at one state,
its rows made, the dump written (by the real ``manage.py dumpscript``); then the models and
migrations move on, the source database is migrated by Django (the oracle), a fresh database
is migrated to the new state, the old script is loaded into it (the real ``loadscript``), and
the two databases are compared row by row, relations by what they point at (auto ids aside).
Each phase is one process, as a user's would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import BACKEND, WORKER

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

SETTINGS = """
from testproject.settings import _database

SECRET_KEY = "evolve"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "dumpscript", *{apps!r}]
DATABASES = {{"default": _database("default"), "other": _database("other")}}
"""

SNAPSHOT = """
import json
from testproject.snapshot import Snapshot
def picture(alias):
    rows = Snapshot(alias, APPS).contents()
    return sorted(repr(row) + " x" + str(count) for row, count in rows.items())
"""


class Project:
    """The project in ``folder``: apps with models and migrations written as text."""

    def __init__(self, folder: Path, apps: tuple[str, ...] = ("shop",)) -> None:
        self.folder, self.apps = folder, apps
        suffix = f"{os.getpid()}_{WORKER}_{abs(hash(str(folder))) % 10**8}"
        self.names = {"default": f"evolve_src_{suffix}", "other": f"evolve_dst_{suffix}"}
        if BACKEND != "postgres":
            self.names = {alias: str(folder / f"{name}.sqlite3") for alias, name in self.names.items()}
        (folder / "evolve_settings.py").write_text(SETTINGS.format(apps=list(apps)))
        for app in apps:
            (folder / app / "migrations").mkdir(parents=True, exist_ok=True)
            (folder / app / "__init__.py").write_text("")
            (folder / app / "migrations" / "__init__.py").write_text("")
        if BACKEND == "postgres":
            from conftest import _pg_admin

            for name in self.names.values():
                _pg_admin(f"DROP DATABASE IF EXISTS {name}")
                _pg_admin(f"CREATE DATABASE {name}")

    def models(self, app: str, text: str) -> None:
        (self.folder / app / "models.py").write_text(textwrap.dedent(text))
        for cached in (self.folder / app).rglob("__pycache__"):
            for file in cached.iterdir():
                file.unlink()

    def migration(self, app: str, name: str, text: str) -> None:
        (self.folder / app / "migrations" / f"{name}.py").write_text(textwrap.dedent(text))

    def forget(self, app: str, name: str) -> None:
        (self.folder / app / "migrations" / f"{name}.py").unlink()

    def run(self, code: str) -> subprocess.CompletedProcess[str]:
        """Run ``code`` in a process of the project (Django set up), in the project's folder."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHONPATH"))}
        env.update(
            DJANGO_SETTINGS_MODULE="evolve_settings",
            PYTHONPATH=os.pathsep.join([str(self.folder), str(TESTS)]),
            DUMPSCRIPT_DEFAULT_NAME=self.names["default"],
            DUMPSCRIPT_OTHER_NAME=self.names["other"],
        )
        program = "import django\ndjango.setup()\nfrom django.core.management import call_command\n"
        program += f"APPS = {self.apps!r}\n" + SNAPSHOT + textwrap.dedent(code)
        return subprocess.run(
            [sys.executable, "-c", program], cwd=self.folder, env=env, capture_output=True, text=True, timeout=300
        )

    def dump_at_first_state(self, fill: str) -> Path:
        """Migrate the source database, make its rows with ``fill``, dump the apps."""
        done = self.run(
            'call_command("migrate", verbosity=0)\n'
            + textwrap.dedent(fill)
            + '\ncall_command("dumpscript", *APPS, output="old_data.py", verbosity=0)\n'
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return self.folder / "old_data.py"

    def upgrade(self, *options: str) -> subprocess.CompletedProcess[str]:
        """``python -m dumpscript upgrade old_data.py`` in the project's folder."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHONPATH"))}
        env.update(PYTHONPATH=os.pathsep.join([str(self.folder), str(TESTS)]), **self._databases())
        command = [sys.executable, "-m", "dumpscript", "upgrade", "old_data.py", "--settings", "evolve_settings"]
        return subprocess.run([*command, *options], cwd=self.folder, env=env, capture_output=True, text=True)

    def _databases(self) -> dict[str, str]:
        return {"DUMPSCRIPT_DEFAULT_NAME": self.names["default"], "DUMPSCRIPT_OTHER_NAME": self.names["other"]}

    def load_at_new_state(self, *options: str, oracle: bool = True) -> Outcome:
        """Migrate the source (Django's own migration: the oracle; not where Django's migrate
        itself refuses the rows) and a fresh database, load the old script into the fresh one,
        and picture both."""
        migrate_source = 'call_command("migrate", verbosity=0)' if oracle else "pass"
        done = self.run(
            f"""
            import io, sys
            {migrate_source}
            call_command("migrate", database="other", verbosity=0)
            out = io.StringIO()
            try:
                call_command("loadscript", "old_data.py", *{options!r}, database="other", stdout=out)
            except Exception as error:
                print(json.dumps({{"error": str(error)}}))
                sys.exit(0)
            source = picture("default") if {oracle!r} else None
            print(json.dumps({{"said": out.getvalue(), "source": source, "loaded": picture("other")}}))
            """
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return Outcome(json.loads(done.stdout.strip().splitlines()[-1]))


class Outcome:
    def __init__(self, found: dict[str, object]) -> None:
        self.error = str(found.get("error", ""))
        self.said = str(found.get("said", ""))
        self.source = found.get("source")
        self.loaded = found.get("loaded")

    @property
    def same(self) -> bool:
        return not self.error and self.source == self.loaded
