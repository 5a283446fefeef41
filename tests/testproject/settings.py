"""Settings of the test project: one module, the database chosen by DUMPSCRIPT_DB.

``DUMPSCRIPT_DB=sqlite`` (default) or ``postgres``. Database names and the PostgreSQL host
come from the environment so that tests and the ``manage.py`` subprocesses they start share
the same databases.
"""

import os

BACKEND = os.environ.get("DUMPSCRIPT_DB", "sqlite")
SECRET_KEY = "dumpscript-tests"
USE_TZ = os.environ.get("DUMPSCRIPT_USE_TZ", "1") == "1"
TIME_ZONE = "Europe/Paris"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "dumpscript",
    "testproject.testapp",
    "testproject.cycleapp",
    "testproject.badapp",
]


def _database(alias: str) -> dict:
    name = os.environ.get(f"DUMPSCRIPT_{alias.upper()}_NAME")
    if BACKEND == "postgres":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name or f"dumpscript_{alias}",
            "USER": os.environ.get("DUMPSCRIPT_PG_USER", "postgres"),
            "HOST": os.environ.get("DUMPSCRIPT_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DUMPSCRIPT_PG_PORT", "5432"),
        }
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": name or f"/tmp/dumpscript_{alias}.sqlite3"}


if os.environ.get("DUMPSCRIPT_BENCH_EXTENSIONS") == "1":  # benchmarks compare with the old tool
    INSTALLED_APPS.append("django_extensions")
if os.environ.get("DUMPSCRIPT_EXTENSIONS_FIRST") == "1":  # the name clash: its dumpscript wins
    INSTALLED_APPS.insert(INSTALLED_APPS.index("dumpscript"), "django_extensions")

DATABASES = {"default": _database("default"), "other": _database("other")}
