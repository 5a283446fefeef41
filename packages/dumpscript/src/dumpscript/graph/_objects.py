"""The objects of one model as compact arrays: sorted primary keys and a byte or two each."""

from __future__ import annotations

import heapq
from array import array
from typing import Any

from django.db import models

from dumpscript.meta.keys import Keys, find_key, sort_key, sorted_keys


class Objects:
    """The objects of one model: sorted primary keys (their *ranks* number the objects) and,
    per object, whether a statement refers to it and whether it is outside the selection."""

    __slots__ = ("aliases", "keys", "model", "outside", "referenced", "unscanned")

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.keys: Keys = array("q")
        self.referenced = bytearray()
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

    def add(self, keys: Keys, outside: bool, referenced: bool) -> None:
        """Merge sorted ``keys`` (none of them present) into the objects."""
        if not len(keys):
            return
        flag, mark = int(outside), int(referenced)
        if not len(self.keys):
            merged: Keys = keys
            self.referenced = bytearray([mark]) * len(keys)
            self.outside = bytearray([flag]) * len(keys)
        else:
            rows = heapq.merge(
                zip(self.keys, self.referenced, self.outside, strict=True),
                ((key, mark, flag) for key in keys),
                key=lambda row: sort_key(row[0]),
            )
            new_keys, new_referenced, new_outside = zip(*rows, strict=True)
            merged = sorted_keys(new_keys)
            self.referenced, self.outside = bytearray(new_referenced), bytearray(new_outside)
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
        self.referenced = bytearray(self.referenced[rank] for rank in kept)
        self.outside = bytearray(self.outside[rank] for rank in kept)
        self.unscanned = [[key for key in chunk if key not in keys] for chunk in self.unscanned]
        for alias in self.aliases.values():
            for there in [there for there, here in alias.items() if here in keys]:
                del alias[there]
