"""A script's names for model classes, found from its module-level statements in Django's app
registry: never by importing or running anything of the script.

Read: ``from app.models import Poll [as P]`` (the app's ``models`` module or the module that
defines the class), ``from app import models`` / ``import app.models [as m]`` followed by
``models.Poll``, and the forms a dump writes for classes that cannot be imported by name:
``Poll = django.apps.apps.get_model("app.Poll")`` (or ``apps.get_model("app", "Poll")``)
and ``Poll = importlib.import_module("async.models").Poll``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

Model = type[models.Model]

__all__ = ["MissingModel", "ModelNames", "model_index"]


def model_index() -> dict[tuple[str, str], Model]:
    """``(module, class name) → model`` for every installed model, by the module that defines it
    and by the module scripts import it from (its app's ``models``)."""
    from dumpscript.writer import import_module_of

    index: dict[tuple[str, str], Model] = {}
    for model in apps.get_models(include_auto_created=False):
        index[(model.__module__, model.__name__)] = model
        index[(import_module_of(model), model.__name__)] = model
    return index


@dataclass(frozen=True)
class MissingModel:
    """A class name imported from a models module that has no such model (removed or renamed
    since the script was written)."""

    local: str
    module: str
    statement: ast.ImportFrom
    alias: ast.alias


@dataclass
class ModelNames:
    """The script's local names of model classes and of the modules that hold them."""

    classes: dict[str, Model] = field(default_factory=dict)
    """Local name → the model class it is bound to."""
    modules: dict[str, str] = field(default_factory=dict)
    """Local name → a module (``models`` → ``polls.models``), for ``models.Poll``."""
    missing: list[MissingModel] = field(default_factory=list)
    index: dict[tuple[str, str], Model] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, statements: Iterable[ast.stmt]) -> ModelNames:
        """The names that ``statements`` (a script's module-level ones) bind to models."""
        index = model_index()
        modules = {module for module, _ in index} | {f"{config.name}.models" for config in apps.get_app_configs()}
        by_module: dict[str, dict[str, Model]] = {}
        for (module, name), model in index.items():
            by_module.setdefault(module, {})[name] = model
        found = cls(index=index)
        for statement in statements:
            if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                found._from_import(statement, index, modules)
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname is not None:
                        found.modules[alias.asname] = alias.name
                    else:  # import polls.models binds polls; polls.models.Poll is resolved by its dots
                        top = alias.name.split(".")[0]
                        found.modules.setdefault(top, top)
            elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name):
                    assigned = _assigned_model(statement.value, by_module)
                    if assigned is not None:
                        found.classes[target.id] = assigned
        return found

    def _from_import(self, statement: ast.ImportFrom, index: dict[tuple[str, str], Model], modules: set[str]) -> None:
        module = statement.module or ""
        for alias in statement.names:
            local = alias.asname or alias.name
            model = index.get((module, alias.name))
            if model is not None:
                self.classes[local] = model
            elif f"{module}.{alias.name}" in modules:  # from polls import models
                self.modules[local] = f"{module}.{alias.name}"
            elif module in modules and alias.name[:1].isupper() and not _has_attribute(module, alias.name):
                self.missing.append(MissingModel(local, module, statement, alias))

    def resolve(self, node: ast.expr | str) -> Model | None:
        """The model that ``node`` names (``Poll``, ``models.Poll``, ``polls.models.Poll``)."""
        if isinstance(node, str):
            try:
                node = ast.parse(node, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.Name):
            return self.classes.get(node.id)
        parts = _dotted(node)
        if parts is None or len(parts) < 2 or parts[0] not in self.modules:
            return None
        module = ".".join([self.modules[parts[0]], *parts[1:-1]])
        return self.index.get((module, parts[-1]))

    def __iter__(self) -> Iterator[str]:
        return iter(self.classes)


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def _has_attribute(module: str, name: str) -> bool:
    """The loaded module has ``name`` (models modules are loaded by Django; nothing is imported)."""
    import sys

    loaded = sys.modules.get(module)
    return loaded is None or hasattr(loaded, name)


def _assigned_model(value: ast.expr, by_module: dict[str, dict[str, Model]]) -> Model | None:
    """The model of ``get_model("app.Name")``, ``get_model("app", "Name")`` or
    ``importlib.import_module("module").Name``."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get_model":
        words = [arg.value for arg in value.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if len(words) != len(value.args) or not 1 <= len(words) <= 2:
            return None
        label = words[0] if len(words) == 1 else f"{words[0]}.{words[1]}"
        try:
            return apps.get_model(label)
        except (LookupError, ValueError):
            return None
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Call):
        call = value.value
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "import_module"
            and len(call.args) == 1
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            return by_module.get(call.args[0].value, {}).get(value.attr)
    return None
