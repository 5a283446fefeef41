"""Where the conformance apps come from, and which ones there are."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
SETTINGS: dict[str, dict[str, Any]] = {
    # A data migration creates a book in every database: the project declares it (commands.rst).
    "migration_test_data_persistence": {"DUMPSCRIPT_MATCH": {"migration_test_data_persistence.Book": ["title"]}},
}
"""Settings a Django test app's project would have."""
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
    settings: dict[str, Any] = field(default_factory=dict)
    """Settings the app needs besides the harness's own (``AUTH_USER_MODEL``…)."""
    sdist: Sdist | None = None
    """Test apps that only a third-party package's sdist holds: fetched, put on ``sys.path``."""


@dataclass(frozen=True)
class Sdist:
    """A folder of a package's source distribution (its test apps, not in the wheel)."""

    requirement: str
    """``name==version``: the same version as the one installed."""
    folder: str
    """The folder of the sdist to extract (``tests``)."""
    inside: str = ""
    """The folder under the extracted one to put on ``sys.path`` ("": the extraction root)."""

    def path(self) -> str:
        """Fetch the sdist once into the cache, extract ``folder``; the ``sys.path`` entry."""
        name = self.requirement.replace("==", "-")
        target = CACHE / name
        done = target / ".extracted"
        with _fetching(target):
            self._fetch(target, done)
        return str(target / "src" / self.inside)

    def _fetch(self, target: Path, done: Path) -> None:
        if not done.exists():
            target.mkdir(parents=True, exist_ok=True)
            options = ["--no-binary", ":all:", "--no-deps", "--quiet", "-d", str(target)]
            if not list(target.glob("*.tar.gz")):
                subprocess.run([*_pip(), "download", self.requirement, *options], check=True)
            (archive,) = target.glob("*.tar.gz")
            with tarfile.open(archive) as tar:
                top = tar.getmembers()[0].name.split("/")[0]
                prefix = f"{top}/{self.folder}/"
                members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
                for member in members:
                    member.name = member.name[len(top) + 1 :]
                tar.extractall(target / "src", members=members, filter="data")
            done.touch()


@contextlib.contextmanager
def _fetching(target: Path) -> Iterator[None]:
    """One process at a time fetches and extracts into ``target`` (parallel test workers)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def django_tests() -> Path:
    """Django's ``tests/`` folder from the sdist of the installed Django (downloaded once)."""
    import django

    version = django.__version__
    target = CACHE / f"django-{version}"
    tests = target / f"django-{version}" / "tests"
    with _fetching(target):
        if not (target / ".extracted").exists():
            _fetch_django(target, version)
    return tests


def _fetch_django(target: Path, version: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    archive = target / f"django-{version}.tar.gz"
    if not archive.exists():
        options = ["--no-binary", ":all:", "--no-deps", "--ignore-requires-python", "--quiet", "-d", str(target)]
        subprocess.run([*_pip(), "download", f"django=={version}", *options], check=True)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"django-{version}/tests/")]
        tar.extractall(target, members=members, filter="data")
    (target / ".extracted").touch()


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
        found.append(App(f"django:{name}", installed, (name,), str(tests), settings=SETTINGS.get(name, {})))
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


_ADMIN = (
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
)

THIRD_PARTY = [
    # Tagging: TaggableManager (in _meta.many_to_many, not a ManyToManyField), generic tagged
    # items, custom tag and through models.
    App(
        "thirdparty:taggit",
        (*_ADMIN, "taggit", "tests"),
        ("taggit", "tests"),
        migrations_off=(),
        sdist=Sdist("django-taggit==6.0.0", "tests"),
    ),
    # Trees: materialized path, nested sets, adjacency lists (path/depth, lft/rgt, sib_order).
    App(
        "thirdparty:treebeard",
        (*_ADMIN, "treebeard", "tests"),
        ("tests",),
        migrations_off=(),
        sdist=Sdist("django-treebeard==7.0.3", "tests"),
    ),
    # Polymorphic models (polymorphic_ctype), multi-table File → Image, folders as a tree.
    App("thirdparty:filer", (*_ADMIN, "easy_thumbnails", "filer"), ("filer", "easy_thumbnails"), migrations_off=()),
    # Object permissions: a generic relation by a CharField, a custom user, a post_migrate row.
    App(
        "thirdparty:guardian",
        (*_ADMIN, "guardian", "guardian.testapp"),
        ("guardian", "testapp"),
        migrations_off=(),
        settings={
            "AUTH_USER_MODEL": "testapp.CustomUser",
            "GUARDIAN_MONKEY_PATCH_USER": False,
            "DUMPSCRIPT_MATCH": {"testapp.CustomUser": ["username"]},  # AnonymousUser: post_migrate
            "AUTHENTICATION_BACKENDS": [
                "django.contrib.auth.backends.ModelBackend",
                "guardian.backends.ObjectPermissionBackend",
            ],
        },
    ),
    # Model history: historical models made at import time, history of a custom user.
    App(
        "thirdparty:simple_history",
        (
            *_ADMIN,
            "simple_history",
            "simple_history.tests",
            "simple_history.tests.custom_user",
            "simple_history.tests.external",
        ),
        ("tests", "custom_user", "external"),
        migrations_off=("auth", "contenttypes", "sessions", "admin", "tests", "custom_user", "external"),
        settings={"AUTH_USER_MODEL": "custom_user.CustomUser", "ROOT_URLCONF": "simple_history.tests.urls"},
        sdist=Sdist("django-simple-history==3.13.0", "simple_history"),
    ),
    # Versions: serialized revisions of objects, generic relations by text ids.
    App(
        "thirdparty:reversion",
        (*_ADMIN, "reversion", "test_app"),
        ("reversion", "test_app"),
        migrations_off=(),
        sdist=Sdist("django-reversion==6.4.0", "tests", "tests"),
    ),
    # Model mixins: status/time-framed models, SplitField, InheritanceManager.
    App(
        "thirdparty:model_utils",
        ("django.contrib.contenttypes", "django.contrib.auth", "model_utils", "tests"),
        ("tests",),
        sdist=Sdist("django-model-utils==5.0.0", "tests"),
    ),
    # Ordered rows: a manager whose bulk_create renumbers the order field.
    App(
        "thirdparty:ordered_model",
        (*_ADMIN, "ordered_model", "tests"),
        ("tests",),
        sdist=Sdist("django-ordered-model==3.7.4", "tests"),
    ),
]
"""The third-party model packages Django projects use most (by downloads; each with its own
test models where its sdist has them), installed by the ``conformance`` dependency group."""


def third_party_apps() -> list[App]:
    """The third-party apps whose package is installed."""
    import importlib.util

    return [app for app in THIRD_PARTY if importlib.util.find_spec(app.name.partition(":")[2])]


def corpus() -> list[App]:
    return [*contrib_apps(), *django_apps(), *third_party_apps()]


def by_name(names: list[str]) -> list[App]:
    apps = {app.name: app for app in corpus()}
    missing = [name for name in names if name not in apps]
    if missing:
        raise SystemExit(f"unknown conformance apps: {', '.join(missing)}")
    return [apps[name] for name in names]
