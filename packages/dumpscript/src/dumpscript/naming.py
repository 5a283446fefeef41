"""Stable, readable variable names: ``poll_1``, ``italian_restaurant_3``.

Objects are numbered per model in creation order, so the same database gives the same names,
and a database loaded from a script gives the same names again when it is dumped.
"""

from __future__ import annotations

import keyword
import re
from collections import defaultdict

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


def assign_names(sections: list[Section]) -> None:
    """Set ``obj.var`` for every object, numbering per model in creation order."""
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
            for obj in group.objects:
                counters[stem] += 1
                obj.var = f"{stem}_{counters[stem]}"
