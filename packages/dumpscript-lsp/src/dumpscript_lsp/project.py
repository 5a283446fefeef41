"""The user's Django project, loaded once in this process and kept warm.

The server runs in the project's own interpreter, so Django is set up here, in one worker
thread that every query goes through (the protocol loop never waits on the database).
Where the project comes from, first found wins:

1. ``initializationOptions.settingsModule`` (and ``managePy``, whose folder goes on
   ``sys.path``), from the client;
2. ``DJANGO_SETTINGS_MODULE`` in the server's environment;
3. a ``manage.py`` in the workspace folder (or one level below) that sets
   ``DJANGO_SETTINGS_MODULE``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

_SETTINGS_IN_MANAGE = re.compile(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)['\"]")


@dataclass
class Project:
    """Where the Django project is, and whether it loaded."""

    settings_module: str | None = None
    manage_py: Path | None = None
    source: str = ""
    """How it was found: ``initializationOptions``, ``environment`` or ``manage.py``."""
    error: str | None = None
    """Why it cannot be used (one line), or None once it has loaded."""
    ready: bool = False
    models: list[str] = field(default_factory=list)
    """``app.Model`` labels of the concrete models, once loaded."""

    def describe(self) -> str:
        if self.ready:
            return f"Django project {self.settings_module} ({len(self.models)} models)"
        return f"No Django project: {self.error}"


def find_project(root: Path | None, options: dict[str, Any]) -> Project:
    """Locate the project without importing it."""
    manage = options.get("managePy")
    settings = options.get("settingsModule")
    if settings:
        path = Path(manage).expanduser() if manage else None
        return Project(str(settings), path, "initializationOptions")
    if manage:
        path = Path(manage).expanduser()
        found = _settings_of(path)
        if found:
            return Project(found, path, "initializationOptions")
        return Project(error=f"{path} does not set DJANGO_SETTINGS_MODULE")
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return Project(os.environ["DJANGO_SETTINGS_MODULE"], None, "environment")
    if root is not None:
        for candidate in [root / "manage.py", *sorted(root.glob("*/manage.py"))]:
            found = _settings_of(candidate)
            if found:
                return Project(found, candidate, "manage.py")
    where = f" in {root}" if root is not None else ""
    return Project(
        error=f"no manage.py{where}, no DJANGO_SETTINGS_MODULE and no settingsModule in the client's settings"
    )


def _settings_of(manage_py: Path) -> str | None:
    try:
        text = manage_py.read_text(encoding="utf-8")
    except OSError:
        return None
    match = _SETTINGS_IN_MANAGE.search(text)
    return match.group(1) if match else None


class Django:
    """Runs everything that touches Django in one thread, after setting the project up there."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="django")
        self.project = Project(error="not loaded yet")
        self._loaded: Future[Project] | None = None

    def load(self, project: Project) -> Future[Project]:
        """Set the project up in the worker thread (once)."""
        self.project = project
        self._loaded = self.executor.submit(self._setup, project)
        return self._loaded

    def _setup(self, project: Project) -> Project:
        if project.error is not None:
            return project
        try:
            if project.manage_py is not None:
                folder = str(project.manage_py.resolve().parent)
                if folder not in sys.path:
                    sys.path.insert(0, folder)
            elif os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            assert project.settings_module is not None
            os.environ["DJANGO_SETTINGS_MODULE"] = project.settings_module
            import django
            from django.apps import apps

            django.setup()
            project.models = sorted(
                m._meta.label for m in apps.get_models() if not m._meta.proxy and not m._meta.abstract
            )
            project.ready = True
            project.error = None
        except BaseException as error:  # an import error in the user's settings, anything
            logger.warning("Cannot load the Django project:\n%s", traceback.format_exc())
            project.error = f"{project.settings_module}: {type(error).__name__}: {error}".splitlines()[0]
        return project

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the Django thread, once the project is set up."""
        if self._loaded is not None:
            await asyncio.wrap_future(self._loaded)
        if not self.project.ready:
            raise ProjectUnavailable(self.project.describe())
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, _closing(function), *args)

    async def wait(self) -> Project:
        if self._loaded is not None:
            await asyncio.wrap_future(self._loaded)
        return self.project


def _closing(function: Callable[..., T]) -> Callable[..., T]:
    """Run ``function`` and give back database connections that went stale meanwhile (the
    thread lives as long as the server; the database may restart)."""

    def wrapper(*args: Any) -> T:
        from django.db import close_old_connections

        close_old_connections()
        return function(*args)

    return wrapper


class ProjectUnavailable(Exception):
    """The Django project could not be loaded; the message says why."""
