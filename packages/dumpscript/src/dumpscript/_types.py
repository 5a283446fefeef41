"""Type aliases for Django's field classes, generic in django-stubs but not at run time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from typing import TypeAlias

    AnyField: TypeAlias = models.Field[Any, Any]
    AnyForeignKey: TypeAlias = models.ForeignKey[Any, Any]
    AnyManyToMany: TypeAlias = models.ManyToManyField[Any, Any]
else:
    AnyField = models.Field
    AnyForeignKey = models.ForeignKey
    AnyManyToMany = models.ManyToManyField

ModelType = type[models.Model]
