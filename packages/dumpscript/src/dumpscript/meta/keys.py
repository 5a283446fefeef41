"""Keys: how they are ordered and kept (sorted arrays of 8 bytes a key while they are integers),
and how they are read: as Python values, or as the database stores them for a primary key of a
type of the project that cannot be hashed or ordered (a wrapper)."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models import ExpressionWrapper, F

from dumpscript.meta.relations import Model, concrete_of

Keys = Any  # array("q") of integer primary keys, or a sorted list of other keys


def sort_key(value: Any) -> tuple[str, Any]:
    """How keys are ordered: by type name, then value (integers and strings never compared)."""
    return (type(value).__name__, value)


def sorted_keys(values: Iterable[Any]) -> Keys:
    """Sorted unique keys, as an ``array("q")`` when they are all integers."""
    ordered = sorted(set(values), key=sort_key)
    try:
        return array("q", ordered)
    except (TypeError, OverflowError):
        return ordered


def key_array(values: list[Any]) -> Keys:
    """``values`` (in their order) as an ``array("q")`` when they are all integers."""
    try:
        return array("q", values)
    except (TypeError, OverflowError):
        return values


def find_key(keys: Keys, value: Any) -> int:
    """The position of ``value`` in sorted ``keys``, or -1."""
    try:
        position = bisect.bisect_left(keys, value)
    except TypeError:
        return -1
    if position < len(keys) and keys[position] == value and type(keys[position]) is type(value):
        return position
    return -1


class Collector:
    """Keys as they come from the database, in 8 bytes each while they are ascending integers
    (``order_by("pk")`` gives them so); sorted afterwards otherwise."""

    def __init__(self) -> None:
        self.sorted: array[int] | None = array("q")
        self.other: list[Any] = []

    def extend(self, values: list[Any]) -> None:
        if self.sorted is not None:
            previous = self.sorted[-1] if self.sorted else None
            ascending = True
            for value in values:
                if type(value) is not int or (previous is not None and value <= previous):
                    ascending = False
                    break
                previous = value
            if ascending:
                try:
                    self.sorted.extend(values)
                    return
                except OverflowError:
                    pass
            self.other, self.sorted = list(self.sorted), None
        self.other.extend(values)

    def keys(self) -> Keys:
        return self.sorted if self.sorted is not None else sorted_keys(self.other)


class KeyColumns:
    """The ``values_list`` columns that read keys of one database in the form the graph keeps."""

    def __init__(self, using: str) -> None:
        self.using = using
        self._stored: dict[Model, bool] = {}

    def stored_keys(self, model: Model) -> bool:
        """The keys of ``model`` are read as the database stores them: its primary key's
        values are of a type of the project that cannot be hashed or ordered (a wrapper)."""
        if model not in self._stored:
            pk = model._meta.pk
            stored = False
            if pk is not None and not type(pk).__module__.startswith("django.") and hasattr(pk, "from_db_value"):
                value = model._base_manager.using(self.using).values_list("pk", flat=True).first()
                try:
                    hash(value)
                    stored = value is not None and bool(value < value)  # orderable?
                except TypeError:
                    stored = True
            self._stored[model] = stored
        return self._stored[model]

    def columns(self, model: Model, names: Sequence[Any]) -> list[Any]:
        """``names`` as ``values_list`` columns: the keys of models with :meth:`stored_keys` (the
        primary key, foreign keys to it) read as stored, past the field's ``from_db_value``."""
        result = []
        for name in names:
            if isinstance(name, str):
                field: Any = model._meta.pk if name == "pk" else model._meta.get_field(name)
                target = field.target_field if field.is_relation and not field.many_to_many else field
                owner = concrete_of(target.model) if target is not None and target.primary_key else None
                if owner is not None and self.stored_keys(owner):
                    name = ExpressionWrapper(F(name), output_field=models.Field())
            result.append(name)
        return result
