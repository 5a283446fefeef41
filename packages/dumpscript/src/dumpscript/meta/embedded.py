"""Keys of other rows stored inside a field's value (a page chosen inside JSON content, a link
in rich text): declared by the project, followed like foreign keys, and written as variables."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from dumpscript.errors import SelectionError


@dataclass(frozen=True)
class EmbeddedIds:
    """Where the keys of rows of ``target`` sit in the values of one field."""

    target: str
    """``app.Model`` of the rows the keys are of."""
    path: str = ""
    """In JSON: the keys' place, dot-separated keys of objects, ``*`` for any item or key
    (``blocks.*.page``)."""
    pattern: str = ""
    """In text: a regular expression whose first group is the key (``linktype="page" id="(\\d+)"``)."""

    def model(self) -> type[models.Model]:
        model: type[models.Model] = apps.get_model(self.target)
        concrete = model._meta.concrete_model
        assert concrete is not None
        return concrete

    def keys(self, value: Any) -> Iterator[Any]:
        """The keys in a value (as the target's primary key type)."""
        pk = self.model()._meta.pk
        assert pk is not None
        if self.pattern:
            if isinstance(value, str):
                for match in re.finditer(self.pattern, value):
                    yield pk.to_python(match.group(1))
            return
        for _, key in _places(value, self.path.split(".")):
            if isinstance(key, int | str) and not isinstance(key, bool):
                yield pk.to_python(key)

    def text(self, value: Any, write: Callable[[Any], str], name: Callable[[Any], str | None]) -> str:
        """The value's source with each key whose row the script creates written as
        ``variable.pk`` (``name(key)``); ``write``: the source of a plain value."""
        pk = self.model()._meta.pk
        assert pk is not None
        if self.pattern:
            parts, names, start = [], [], 0
            for match in re.finditer(self.pattern, value):
                var = name(pk.to_python(match.group(1)))
                if var is None:
                    continue
                parts.append(value[start : match.start(1)])
                names.append(f"{var}.pk")
                start = match.end(1)
            if not names:
                return write(value)
            parts.append(value[start:])
            template = "{}".join(part.replace("{", "{{").replace("}", "}}") for part in parts)
            return f"{write(template)}.format({', '.join(names)})"
        return _json_text(value, self.path.split("."), write, lambda key: name(pk.to_python(key)))


def _places(value: Any, parts: list[str]) -> Iterator[tuple[Any, Any]]:
    """``(container, value)`` at ``parts`` of a JSON value."""
    if not parts:
        yield None, value
        return
    head, rest = parts[0], parts[1:]
    for _, item in _items(value, head):
        yield from _places(item, rest)


def _items(value: Any, part: str) -> Iterator[tuple[Any, Any]]:
    if isinstance(value, dict):
        yield from (value.items() if part == "*" else [(part, value[part])] if part in value else [])
    elif isinstance(value, list):
        if part == "*":
            yield from enumerate(value)
        elif part.isdigit() and int(part) < len(value):
            yield int(part), value[int(part)]


def _json_text(value: Any, parts: list[str], write: Callable[[Any], str], name: Callable[[Any], str | None]) -> str:
    if not parts:
        var = name(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
        return f"{var}.pk" if var is not None else write(value)
    matched = dict(_items(value, parts[0]))
    if isinstance(value, dict):
        items = (
            f"{write(k)}: {_json_text(v, parts[1:], write, name) if k in matched else write(v)}"
            for k, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        texts = (_json_text(v, parts[1:], write, name) if i in matched else write(v) for i, v in enumerate(value))
        return "[" + ", ".join(texts) + "]"
    return write(value)


_REGISTRY: dict[tuple[str, str], EmbeddedIds] = {}


def register_ids(field: str, target: str, *, path: str = "", pattern: str = "") -> None:
    """Declare that the values of ``field`` (``app.Model.field``) hold keys of rows of
    ``target`` (``app.Model``): in JSON at ``path`` (``"blocks.*.page"``), or in text where
    the regular expression ``pattern`` matches (its first group is the key). A dump then
    includes those rows and writes the keys as their variables (``page_1.pk``)."""
    label, _, name = field.rpartition(".")
    if not label or bool(path) == bool(pattern):
        raise SelectionError(f"register_ids({field!r}, …): name app.Model.field, and give path= or pattern=")
    if pattern and re.compile(pattern).groups < 1:
        raise SelectionError(f"register_ids({field!r}, …): the pattern needs a group around the key")
    _REGISTRY[(label.lower(), name)] = EmbeddedIds(target, path, pattern)


def embedded_ids(field: Any) -> EmbeddedIds | None:
    """The keys declared in ``field``'s values, or None."""
    if not _REGISTRY:
        return None
    return _REGISTRY.get((field.model._meta.label_lower, field.name))
