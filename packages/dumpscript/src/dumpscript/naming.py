"""Stable, readable variable names: ``poll_1``, ``italian_restaurant_3``.

Objects are numbered per model in creation order, so the same database gives the same names,
and a database loaded from a script gives the same names again when it is dumped.
"""

from __future__ import annotations

import keyword
import re
from collections import defaultdict
from collections.abc import Collection

from django.db import models

from dumpscript.ordering import Section

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


def assign_names(
    sections: list[Section], taken: Collection[str] = frozenset(), skip: Collection[int] = frozenset()
) -> None:
    """Set ``obj.var`` for every object (but those whose id is in ``skip``), numbering per
    model in creation order. With ``taken`` (the names a script already uses), numbers
    continue after the highest ``stem_N`` taken and never give a taken name."""
    counters: dict[str, int] = defaultdict(int)
    stems: dict[type[models.Model], str] = {}
    used_by: dict[str, type[models.Model]] = {}
    for section in sections:
        for group in section.groups:
            stem = stems.get(group.model)
            if stem is None:
                stem = model_stem(group.model)
                if used_by.setdefault(stem, group.model) is not group.model:
                    stem = f"{snake(group.model._meta.app_label)}_{stem}"
                stems[group.model] = stem
                if taken:
                    counters[stem] = _highest(stem, taken)
            for obj in group.objects:
                if id(obj) in skip:
                    continue
                counters[stem] += 1
                while f"{stem}_{counters[stem]}" in taken:
                    counters[stem] += 1
                obj.var = f"{stem}_{counters[stem]}"


def _highest(stem: str, taken: Collection[str]) -> int:
    """The highest ``N`` of a taken name ``stem_N``, 0 if none."""
    pattern = re.compile(re.escape(stem) + r"_([1-9][0-9]*)")
    numbers = [int(m.group(1)) for name in taken if (m := pattern.fullmatch(name))]
    return max(numbers, default=0)
