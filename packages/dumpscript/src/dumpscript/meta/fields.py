"""The keywords a model's constructor takes, and the nearest field to one it does not: the one
test for a script's unknown fields, shared by the load's error and the editor's diagnostic."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from django.core.exceptions import FieldDoesNotExist
from django.db import models

__all__ = ["field_names", "nearest_field", "unknown_keywords"]

Model = type[models.Model]


def field_names(model: Model) -> set[str]:
    """The names a script sets fields by: ``pk``, every concrete field (and its column
    attribute, ``author_id``), every relation declared on the model."""
    names = {"pk"}
    for field in model._meta.get_fields():
        if field.concrete or (getattr(field, "is_relation", False) and not field.auto_created):
            names.add(field.name)
            attname = getattr(field, "attname", None)
            if attname:
                names.add(attname)
    return names


def unknown_keywords(model: Model, names: Iterable[str]) -> list[str]:
    """The keywords of ``Model(**kwargs)`` that Django's ``Model.__init__`` refuses (the same
    test: not a concrete field's name or column, not a property, not a field by name)."""
    opts = model._meta
    taken = {name for field in opts.concrete_fields for name in (field.name, field.attname)}
    unknown = []
    for name in names:
        if name in taken or name in opts._property_names:  # type: ignore[attr-defined]
            continue
        try:
            opts.get_field(name)
        except FieldDoesNotExist:
            unknown.append(name)
    return unknown


def nearest_field(model: Model, name: str) -> str | None:
    """The field of ``model`` whose name is nearest to ``name`` (a typo's likely meaning), if
    one is near."""
    near = difflib.get_close_matches(name, sorted(field_names(model)), n=1)
    return near[0] if near else None
