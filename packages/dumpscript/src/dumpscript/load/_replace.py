"""``replace``: the rows of the models a script creates, deleted first; what that deletes,
counted without deleting (Django's delete collector, no signal)."""

from __future__ import annotations

import ast
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, models

from dumpscript.errors import ScriptError
from dumpscript.load._errors import script_path
from dumpscript.load._header import announced_rows
from dumpscript.meta import root_model

_CREATING = {"create", "bulk_create", "get_or_create", "update_or_create"}


def _created_through(call: ast.Call) -> ast.expr | None:
    """``Tag`` for ``Tag.objects.using(using).create(...)`` (and bulk_create, get_or_create,
    update_or_create): the class a manager call creates rows of."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr in _CREATING):
        return None
    node: ast.expr = call.func.value
    while isinstance(node, ast.Call) or (isinstance(node, ast.Attribute) and not _is_class(node)):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return node


def _is_class(node: ast.Attribute) -> bool:
    """``models.Poll`` (a class, by convention), not ``Poll.objects``."""
    return node.attr[:1].isupper()


def created_models(source: bytes, filename: str) -> list[type[models.Model]]:
    """Models the script creates rows of by name (``Poll(...)``, ``Poll.objects.create(...)``,
    ``bulk_create``, ``get_or_create``, ``update_or_create``): what ``--replace`` clears.

    Names are resolved from the script's module-level imports in the app registry; nothing
    of the script runs.
    """
    from dumpscript.script.models import ModelNames

    tree = ast.parse(source, filename)
    names = ModelNames.of(tree.body)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    called = [node.func for node in calls] + [found for found in map(_created_through, calls) if found is not None]
    found: list[type[models.Model]] = []
    for model in sorted({m for m in map(names.resolve, called) if m is not None}, key=lambda m: m._meta.label):
        concrete = model._meta.concrete_model
        if not model._meta.abstract and concrete is not None and concrete not in found:
            found.append(concrete)
    return found


def _replaced(script: Path, using: str) -> Iterator[models.QuerySet[Any]]:
    """The rows ``replace`` deletes: every row of each model the script creates, through the
    root of a multi-table chain (so that other children of the same parent rows go too;
    Django leaves them dangling otherwise)."""
    for model in created_models(script.read_bytes(), str(script)):
        root = root_model(model)
        rows = root._base_manager.using(using).all()
        if root is not model:
            rows = rows.filter(pk__in=model._base_manager.using(using).values("pk"))
        yield rows


def delete_created(script: Path, using: str) -> dict[str, int]:
    deleted: Counter[str] = Counter()
    for rows in _replaced(script, using):
        _, per_label = rows.delete()
        deleted.update({label: count for label, count in per_label.items() if count})
    return dict(sorted(deleted.items()))


def replace_preview(path: str | os.PathLike[str], *, using: str = DEFAULT_DB_ALIAS) -> ReplacePreview:
    """What a load of ``path`` with ``replace`` would delete in ``using``, per model label,
    cascades included (as Django's delete collects them), without deleting anything or
    sending a signal; and which of those models the script creates again."""
    from django.db.models.deletion import Collector, ProtectedError, RestrictedError

    script = script_path(path, using)
    try:
        source = script.read_bytes()
        created = {model._meta.label for model in created_models(source, str(script))}
    except OSError as error:
        raise ScriptError(f"Cannot read script {path}: {error.strerror or error}") from None
    except SyntaxError as error:
        raise ScriptError(f"Cannot read script {path}: {error.msg} at line {error.lineno}") from None
    created |= set(announced_rows(script))  # the links it creates too
    collector = Collector(using=using)
    try:
        for rows in _replaced(script, using):
            collector.collect(rows)
    except (ProtectedError, RestrictedError) as error:
        raise ScriptError(f"{path}: --replace cannot delete the rows: {error.args[0]}") from None
    keys: dict[str, set[Any]] = {}  # a row that two deletes reach is deleted once
    for model, instances in collector.data.items():
        keys.setdefault(model._meta.label, set()).update(obj.pk for obj in instances)
    for queryset in collector.fast_deletes:
        keys.setdefault(queryset.model._meta.label, set()).update(queryset.values_list("pk", flat=True))
    deleted = {label: len(pks) for label, pks in sorted(keys.items()) if pks}
    return ReplacePreview(deleted, frozenset(created))


@dataclass(frozen=True)
class ReplacePreview:
    """What ``replace`` deletes, per model label, and the labels the script creates again."""

    deleted: dict[str, int]
    created: frozenset[str]

    @property
    def others(self) -> dict[str, int]:
        """Rows deleted of models the script does not create (cascades, links)."""
        return {label: count for label, count in self.deleted.items() if label not in self.created}

    def lines(self, verb: str = "Delete") -> list[str]:
        """One line a model: the rows of models the script does not create first."""
        others = self.others
        lines = [f"{verb} {count} {label} (not in the script)" for label, count in others.items()]
        lines += [f"{verb} {count} {label}" for label, count in self.deleted.items() if label not in others]
        return lines


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {label}" for label, count in counts.items()) or "no rows"
