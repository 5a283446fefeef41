"""A script written at an earlier migration state, loaded as Django's ``migrate`` would have
brought its rows forward: while it runs, the names it uses are those of its state.

* a renamed model is importable by its old name from its app's models module;
* a deleted model is a stand-in whose rows are left out, counted;
* ``Model(...)`` takes the script's keywords: a renamed field (a foreign key's ``_id`` too)
  under its new name, a removed field left out and counted, a field added with a one-off
  default (``preserve_default=False``) given it, an altered field's value converted (or
  refused, naming the field and the migration);
* a renamed many-to-many field is reachable by its old name (``Book.tags.through``), and the
  rows of an automatic through table take the old column names of a renamed model.

Everything is put back when the load ends, however it ends.
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from dumpscript.replay._changes import Changes, ModelChange

__all__ = ["MigratedValueError", "replaying", "rewriting_keywords"]

Model = type[models.Model]


class MigratedValueError(ValueError):
    """A value of the script that the field it goes to now cannot take."""


@dataclass
class _Keywords:
    """How one class's constructor keywords change."""

    label: str
    renamed: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    """Keyword → the report key ``"app.Model.field (removed in app 0002_x)"``."""
    defaults: dict[str, tuple[str, Any]] = field(default_factory=dict)
    """Field name → (its column attribute, the one-off default)."""
    altered: dict[str, tuple[models.Field[Any, Any], str, Any]] = field(default_factory=dict)
    """Field name now → (its field now, the migration, the script's default for it)."""

    def apply(self, kwargs: dict[str, Any], dropped: Counter[str]) -> None:
        for old in [name for name in kwargs if name in self.removed]:
            del kwargs[old]
            dropped[self.removed[old]] += 1
        for old in [name for name in kwargs if name in self.renamed]:
            kwargs[self.renamed[old]] = kwargs.pop(old)
        for name, (attname, value) in self.defaults.items():
            if name not in kwargs and attname not in kwargs:
                kwargs[name] = value
        for name, (target, where, default) in self.altered.items():
            if target.is_relation:
                continue
            value = kwargs[name] if name in kwargs else kwargs.get(target.attname, default)
            kwargs.pop(target.attname, None)
            kwargs[name] = _converted(self.label, target, value, where)


def _converted(label: str, target: models.Field[Any, Any], value: Any, where: str) -> Any:
    if value is None:
        if not target.null:
            raise MigratedValueError(f"{label}.{target.name} is NOT NULL since {where}: this object has None")
        return None
    if isinstance(value, models.Model) or target.is_relation:
        return value
    try:
        converted = target.to_python(value)
    except ValidationError as error:
        message = " ".join(error.messages)
        raise MigratedValueError(f"{label}.{target.name} cannot take {value!r} since {where}: {message}") from None
    limit = getattr(target, "max_length", None)
    if isinstance(converted, str) and limit is not None and len(converted) > limit:
        raise MigratedValueError(
            f"{label}.{target.name} holds at most {limit} characters since {where}: this object has "
            f"{len(converted)} ({converted[:30]!r}…)"
        )
    return converted


def _model(app: str, name: str) -> Model | None:
    try:
        return apps.get_model(app, name)
    except LookupError:
        return None


def _keywords(change: ModelChange, model: Model) -> _Keywords:
    label = model._meta.label
    kw = _Keywords(label)
    for old, new in change.fields.items():
        kw.renamed[old] = new
        current = model._meta.get_field(new)
        if getattr(current, "attname", new) != new:  # a foreign key: its column attribute too
            kw.renamed[f"{old}_id"] = current.attname  # type: ignore[union-attr]
    for old, where in change.removed.items():
        kw.removed[old] = kw.removed[f"{old}_id"] = f"{change.old}.{old} (removed in {where})"
    for name, added in change.added.items():
        target = model._meta.get_field(name)
        kw.defaults[name] = (getattr(target, "attname", name), added.value)
    old_names = {new: old for old, new in change.fields.items()}
    for name, where in change.altered.items():
        target = model._meta.get_field(name)
        default = change.defaults.get(old_names.get(name, name))
        kw.altered[name] = (target, where, default)  # type: ignore[assignment]
    return kw


class _Dropped:
    """A model deleted since the script was written: its objects are counted and left out."""

    def __init__(self, change: ModelChange, dropped: Counter[str]) -> None:
        self.change, self.dropped = change, dropped

    def _count(self, number: int) -> None:
        self.dropped[f"{self.change.old} (deleted in {self.change.deleted_in})"] += number

    def __call__(self, *args: Any, **kwargs: Any) -> _DroppedObject:
        return _DroppedObject(self)

    @property
    def objects(self) -> _DroppedManager:
        return _DroppedManager(self)


class _DroppedObject:
    def __init__(self, model: _Dropped) -> None:
        self.model, self.pk = model, None

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.model._count(1)


class _DroppedManager:
    def __init__(self, model: _Dropped) -> None:
        self.model = model

    def using(self, *args: Any) -> _DroppedManager:
        return self

    db_manager = using

    def bulk_create(self, objs: list[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        self.model._count(len(objs))
        return objs

    def create(self, *args: Any, **kwargs: Any) -> _DroppedObject:
        self.model._count(1)
        return _DroppedObject(self.model)

    def get_or_create(self, *args: Any, **kwargs: Any) -> tuple[_DroppedObject, bool]:
        return self.create(), True

    update_or_create = get_or_create


@contextlib.contextmanager
def replaying(changes: Changes, dropped: Counter[str]) -> Iterator[None]:
    """While the block runs, the script's names are those of its recorded state (see the
    module's docstring); values left out are counted in ``dropped``."""
    by_class: dict[Model, _Keywords] = {}
    undo: list[tuple[Any, str, Any]] = []

    def alias(owner: Any, name: str, value: Any) -> None:
        if name not in vars(owner):
            undo.append((owner, name, vars(owner).get(name, _MISSING)))
            setattr(owner, name, value)

    for (app, _), change in changes.models.items():
        module = _models_module(app)
        old_class = change.old.rsplit(".", 1)[1]
        if change.deleted_in:
            if module is not None:
                alias(module, old_class, _Dropped(change, dropped))
            continue
        model = _model(app, change.name)
        if model is None:
            continue
        if change.renamed_in and module is not None:
            alias(module, old_class, model)
        keywords = _keywords(change, model)
        if keywords.renamed or keywords.removed or keywords.defaults or keywords.altered:
            by_class[model] = keywords
        for old, new in change.fields.items():
            if isinstance(model._meta.get_field(new), models.ManyToManyField):
                alias(model, old, getattr(model, new))
    _through_columns(changes, by_class)

    def rewrite(model: Model, kwargs: dict[str, Any]) -> None:
        keywords = by_class.get(model)
        if keywords is not None:
            keywords.apply(kwargs, dropped)

    try:
        with rewriting_keywords(rewrite):
            yield
    finally:
        for owner, name, before in reversed(undo):
            if before is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, before)


_MISSING = object()


@contextlib.contextmanager
def rewriting_keywords(rewrite: Callable[[Model, dict[str, Any]], None]) -> Iterator[None]:
    """While the block runs, ``Model(**kwargs)`` passes its keywords through ``rewrite(model,
    kwargs)`` first (which changes them in place): how a load takes a script's keywords as the
    models no longer spell them. Put back when the block ends, however it ends."""
    original = models.Model.__init__

    def init(self: models.Model, *args: Any, **kwargs: Any) -> None:
        if kwargs:
            rewrite(type(self), kwargs)
        original(self, *args, **kwargs)

    models.Model.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.Model.__init__ = original  # type: ignore[method-assign]


def _models_module(app: str) -> Any:
    try:
        config = apps.get_app_config(app)
    except LookupError:
        return None
    return config.models_module or sys.modules.get(f"{config.name}.models")


def _through_columns(changes: Changes, by_class: dict[Model, _Keywords]) -> None:
    """Rows of an automatic through table keep the old column names of a renamed model
    (``Book_tags(book=..., tag=...)`` once ``Tag`` is ``Label``)."""
    renamed = {
        (app, change.name): change.old.rsplit(".", 1)[1].lower()
        for (app, _), change in changes.models.items()
        if change.renamed_in and not change.deleted_in
    }
    if not renamed:
        return
    for model in apps.get_models():
        for m2m in model._meta.local_many_to_many:
            through: Model | None = m2m.remote_field.through  # type: ignore[assignment]
            if through is None or not through._meta.auto_created:
                continue
            keywords = by_class.setdefault(through, _Keywords(through._meta.label))
            ends: tuple[tuple[str, Any], ...] = (
                (m2m.m2m_field_name(), model),
                (m2m.m2m_reverse_field_name(), m2m.related_model),
            )
            for column, target in ends:
                key = (target._meta.app_label, target._meta.model_name)
                if key in renamed and column == target._meta.model_name:
                    keywords.renamed[renamed[key]] = column
                    keywords.renamed[f"{renamed[key]}_id"] = f"{column}_id"
            if not keywords.renamed:
                del by_class[through]
