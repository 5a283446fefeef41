"""Where the conformance apps come from, and which ones there are."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("DUMPSCRIPT_CONFORMANCE_CACHE", Path.home() / ".cache" / "dumpscript-conformance"))

# What Django's own test runner always installs (tests/runtests.py), and the apps some test
# apps need beside them.
DJANGO_BASE = (
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sites",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.staticfiles",
)
NEEDS = {
    "flatpages_tests": ("django.contrib.flatpages",),
    "redirects_tests": ("django.contrib.redirects",),
    "postgres_tests": ("django.contrib.postgres",),
}
SKIP = {"import_error_package", "test_runner_apps", "gis_tests"}
"""Not apps of models: packages the test runner itself skips, and GIS (needs GDAL).
``postgres_tests`` (every PostgreSQL field) is set up on PostgreSQL only."""


@dataclass(frozen=True)
class App:
    """One conformance case: the apps to install, the labels to dump and compare."""

    name: str
    installed: tuple[str, ...]
    labels: tuple[str, ...]
    path: str = ""
    """A folder put first on ``sys.path`` (Django's ``tests/``)."""
    migrations_off: tuple[str, ...] = field(default=("auth", "contenttypes", "sessions"))
    """App labels created from their models, not their migrations (as Django's test runner
    does, so that apps without migrations can point at them)."""


def django_tests() -> Path:
    """Django's ``tests/`` folder from the sdist of the installed Django (downloaded once)."""
    import django

    version = django.__version__
    target = CACHE / f"django-{version}"
    tests = target / f"django-{version}" / "tests"
    if tests.is_dir():
        return tests
    target.mkdir(parents=True, exist_ok=True)
    archive = target / f"django-{version}.tar.gz"
    if not archive.exists():
        options = ["--no-binary", ":all:", "--no-deps", "--ignore-requires-python", "--quiet", "-d", str(target)]
        subprocess.run([*_pip(), "download", f"django=={version}", *options], check=True)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"django-{version}/tests/")]
        tar.extractall(target, members=members, filter="data")
    return tests


def _pip() -> list[str]:
    """A pip to download with: this interpreter's, else the machine's (uv's venvs have none)."""
    import importlib.util

    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    found = shutil.which("pip3") or shutil.which("pip")
    if found is None:
        raise SystemExit("cannot fetch Django's test suite: no pip found")
    return [found]


def django_apps() -> list[App]:
    """Every app of Django's test suite that has models."""
    tests = django_tests()
    found = []
    for folder in sorted(tests.iterdir()):
        name = folder.name
        if name in SKIP or not folder.is_dir() or not (folder / "__init__.py").exists():
            continue
        if not ((folder / "models.py").exists() or (folder / "models" / "__init__.py").exists()):
            continue
        installed = (*DJANGO_BASE, *NEEDS.get(name, ()), name)
        found.append(App(f"django:{name}", installed, (name,), str(tests)))
    return found


CONTRIB_LABELS = {
    "django.contrib.auth": "auth",
    "django.contrib.contenttypes": "contenttypes",
    "django.contrib.sites": "sites",
    "django.contrib.sessions": "sessions",
    "django.contrib.admin": "admin",
    "django.contrib.flatpages": "flatpages",
    "django.contrib.redirects": "redirects",
}


def contrib_apps() -> list[App]:
    """``django.contrib``'s apps with models, with their real migrations."""
    base = ("django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sites")
    apps = []
    for module, label in CONTRIB_LABELS.items():
        installed = tuple(dict.fromkeys((*base, "django.contrib.sessions", "django.contrib.messages", module)))
        apps.append(App(f"contrib:{label}", installed, (label,), migrations_off=()))
    return apps


def corpus() -> list[App]:
    return [*contrib_apps(), *django_apps()]


def by_name(names: list[str]) -> list[App]:
    apps = {app.name: app for app in corpus()}
    missing = [name for name in names if name not in apps]
    if missing:
        raise SystemExit(f"unknown conformance apps: {', '.join(missing)}")
    return [apps[name] for name in names]
