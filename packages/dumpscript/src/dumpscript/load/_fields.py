"""Fields a script sets that its model no longer has (a script written before a migration that
removed or renamed them, or a typo): a one-line error naming the line, the model, the field
and the nearest field the model has; or, when the user asks (``drop_unknown_fields``), the
values left out and counted per field, never silently (``loaddata -i`` drops them unsaid)."""

from __future__ import annotations

import contextlib
import types
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.db import models

from dumpscript.meta.fields import nearest_field, unknown_keywords

__all__ = ["UnknownFields", "dropping_unknown_fields", "unknown_fields"]


class UnknownFields:
    """The model of a refused constructor call and the keywords it does not take."""

    def __init__(self, model: type[models.Model], names: list[str]) -> None:
        self.model, self.names = model, names

    def text(self) -> str:
        label = self.model._meta.label
        parts = []
        for name in self.names:
            near = nearest_field(self.model, name)
            hint = f"; the nearest field is {near!r}" if near else ""
            parts.append(f"{label} has no field {name!r} (removed or renamed since the script was written?{hint})")
        return "; ".join(parts)


def unknown_fields(error: BaseException) -> UnknownFields | None:
    """The model and keywords of a ``TypeError`` that ``Model.__init__`` raised for keywords
    that are not fields, found in the traceback (None for any other error)."""
    if not isinstance(error, TypeError) or "unexpected keyword argument" not in str(error):
        return None
    tb: types.TracebackType | None = error.__traceback__
    found = None
    while tb is not None:
        frame = tb.tb_frame
        target = frame.f_locals.get("self")
        if frame.f_code.co_name == "__init__" and isinstance(target, models.Model):
            found = type(target), frame.f_locals.get("kwargs")
        tb = tb.tb_next
    if found is None:
        return None
    model, kwargs = found
    names = unknown_keywords(model, kwargs or {}) if isinstance(kwargs, dict) else []
    return UnknownFields(model, names) if names else None


@contextlib.contextmanager
def dropping_unknown_fields(dropped: Counter[str]) -> Iterator[None]:
    """While the block runs, ``Model(**kwargs)`` leaves out the keywords that are not fields of
    the model, counting each in ``dropped`` (``"polls.Choice.votes": 9``)."""
    from dumpscript.replay import rewriting_keywords

    def drop(model: type[models.Model], kwargs: dict[str, Any]) -> None:
        for name in unknown_keywords(model, list(kwargs)):
            del kwargs[name]
            dropped[f"{model._meta.label}.{name}"] += 1

    with rewriting_keywords(drop):
        yield
