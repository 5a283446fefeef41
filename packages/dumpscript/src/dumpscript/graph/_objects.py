"""The objects of one model as compact arrays: sorted primary keys and a byte or two each."""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Iterable
from typing import Any

from django.db import models

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


class Objects:
    """The objects of one model: sorted primary keys (their *ranks* number the objects) and,
    per object, whether a statement refers to it and whether it is outside the selection."""

    __slots__ = ("aliases", "keys", "model", "named", "outside", "unscanned")

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.keys: Keys = array("q")
        self.named = bytearray()
        """1 for an object that a later statement refers to (it gets a variable)."""
        self.outside = bytearray()
        """1 for an object included only because a selected object points at it."""
        self.unscanned: list[Keys] = []
        """Sorted keys added since the last scan of references, a sequence per addition."""
        self.aliases: dict[type[models.Model], dict[Any, Any]] = {}
        """For a model whose rows have other keys in an ancestor's table (see ``other_roots``):
        that ancestor's root model → {key there: key here}."""

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, keys: Keys, outside: bool, named: bool) -> None:
        """Merge sorted ``keys`` (none of them present) into the objects."""
        if not len(keys):
            return
        flag, mark = int(outside), int(named)
        if not len(self.keys):
            merged: Keys = keys
            self.named = bytearray([mark]) * len(keys)
            self.outside = bytearray([flag]) * len(keys)
        else:
            rows = heapq.merge(
                zip(self.keys, self.named, self.outside, strict=True),
                ((key, mark, flag) for key in keys),
                key=lambda row: sort_key(row[0]),
            )
            new_keys, new_named, new_outside = zip(*rows, strict=True)
            merged = sorted_keys(new_keys)
            self.named, self.outside = bytearray(new_named), bytearray(new_outside)
        self.keys = merged
        self.unscanned.append(keys)

    def find(self, key: Any) -> int:
        return find_key(self.keys, key)

    def rank(self, root: type[models.Model], key: Any) -> int:
        """The rank of the object whose row has ``key`` in the table of ``root``, or -1."""
        alias = self.aliases.get(root)
        if alias is None:
            return self.find(key)
        return self.find(alias[key]) if key in alias else -1

    def remove(self, keys: set[Any]) -> None:
        kept = [rank for rank, key in enumerate(self.keys) if key not in keys]
        self.keys = sorted_keys([self.keys[rank] for rank in kept])
        self.named = bytearray(self.named[rank] for rank in kept)
        self.outside = bytearray(self.outside[rank] for rank in kept)
        self.unscanned = [[key for key in chunk if key not in keys] for chunk in self.unscanned]
        for alias in self.aliases.values():
            for there in [there for there, here in alias.items() if here in keys]:
                del alias[there]
