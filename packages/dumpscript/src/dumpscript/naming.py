"""Stable, readable variable names: ``poll_1``, ``italian_restaurant_3``.

Objects are numbered per model in creation order, so the same database gives the same names,
and a database loaded from a script gives the same names again when it is dumped.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection

from django.db import models

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``ItalianRestaurant`` → ``italian_restaurant``; ``HTTPLog`` → ``http_log``."""
    result = _CAMEL.sub("_", name).lower()
    result = re.sub(r"\W", "_", result)
    if not result or result[0].isdigit() or keyword.iskeyword(result):
        result = f"obj_{result}"
    return result


def model_stem(model: type[models.Model]) -> str:
    return snake(model.__name__)


def highest(stem: str, taken: Collection[str]) -> int:
    """The highest ``N`` of a taken name ``stem_N``, 0 if none."""
    pattern = re.compile(re.escape(stem) + r"_([1-9][0-9]*)")
    numbers = [int(m.group(1)) for name in taken if (m := pattern.fullmatch(name))]
    return max(numbers, default=0)


def plural(stem: str) -> str:
    """``polls`` for ``poll``, ``categories`` for ``category``, ``boxes`` for ``box``."""
    if stem.endswith(("s", "x", "z", "ch", "sh")):
        return stem + "es"
    if stem.endswith("y") and stem[-2:-1] not in "aeiou":
        return stem[:-1] + "ies"
    return stem + "s"
