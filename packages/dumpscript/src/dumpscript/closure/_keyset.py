"""The keys the walk has reached, per model, in little memory: a bitmap while they are
integers that are not too sparse (one bit per possible key: 125 KB for keys up to a million,
where a set of a million integers takes about 60 MB), else a set."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from dumpscript.meta.keys import Keys, sorted_keys

DENSE = 1 << 20
"""Keys below this always fit the bitmap (128 KB at most)."""
SPARSE = 64
"""Beyond :data:`DENSE`, the bitmap may cover at most this many possible keys per key held
(8 bytes per key): sparser keys go to a set."""


class KeySet:
    """A set of primary keys: ``in``, ``add``, ``len``, and the keys sorted."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self._count = 0
        self._other: set[Any] | None = None

    def _fits(self, key: Any) -> bool:
        return type(key) is int and 0 <= key < max(DENSE, SPARSE * (self._count + 1))

    def __contains__(self, key: Any) -> bool:
        if self._other is not None:
            return key in self._other
        if type(key) is not int or key < 0:
            return False
        index = key >> 3
        return index < len(self._bits) and bool(self._bits[index] >> (key & 7) & 1)

    def add(self, key: Any) -> None:
        if self._other is None and self._fits(key):
            index = key >> 3
            if index >= len(self._bits):
                self._bits.extend(bytes(max(index + 1 - len(self._bits), len(self._bits) // 2)))
            mask = 1 << (key & 7)
            if not self._bits[index] & mask:
                self._bits[index] |= mask
                self._count += 1
            return
        if self._other is None:  # a key the bitmap cannot hold: a set from now on
            self._other = set(self._bitmap_keys())
            self._bits = bytearray()
        self._other.add(key)

    def update(self, keys: Iterable[Any]) -> None:
        for key in keys:
            self.add(key)

    def __len__(self) -> int:
        return len(self._other) if self._other is not None else self._count

    def _bitmap_keys(self) -> Iterator[int]:
        for index, byte in enumerate(self._bits):
            if byte:
                base = index << 3
                for bit in range(8):
                    if byte >> bit & 1:
                        yield base + bit

    def sorted(self) -> Keys:
        """The keys in order: an ``array("q")`` of integers (without a second copy of a set)."""
        if self._other is not None:
            return sorted_keys(self._other)
        return array("q", self._bitmap_keys())
