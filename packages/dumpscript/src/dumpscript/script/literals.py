"""The values a script writes, read from its syntax tree without running any of it: numbers,
strings, bytes, ``None`` and booleans; ``Decimal("…")``, ``uuid.UUID("…")``,
``datetime.datetime(…)`` (``date``, ``time``, ``timedelta``; ``tzinfo=`` UTC, a fixed
offset or a ``zoneinfo.ZoneInfo``), ``float("inf")``; lists, tuples and dicts of these (JSON).
Anything else (a name, an arbitrary call) is :class:`NotALiteral`.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["NotALiteral", "dotted", "read_literal", "same"]


def _zone(key: str) -> datetime.tzinfo:
    import zoneinfo

    return zoneinfo.ZoneInfo(key)


_CALLABLES: dict[str, Callable[..., Any]] = {
    "datetime.datetime": datetime.datetime,
    "datetime.date": datetime.date,
    "datetime.time": datetime.time,
    "datetime.timedelta": datetime.timedelta,
    "datetime.timezone": datetime.timezone,
    "date": datetime.date,
    "timedelta": datetime.timedelta,
    "decimal.Decimal": decimal.Decimal,
    "Decimal": decimal.Decimal,
    "uuid.UUID": uuid.UUID,
    "UUID": uuid.UUID,
    "zoneinfo.ZoneInfo": _zone,
    "ZoneInfo": _zone,
    "float": float,
}
_ATTRIBUTES: dict[str, Any] = {
    "datetime.timezone.utc": datetime.timezone.utc,
    "timezone.utc": datetime.timezone.utc,
}


class NotALiteral(ValueError):
    """An expression that is not a value as dumpscript writes them."""


def dotted(node: ast.expr) -> str:
    """``a.b.c`` for a chain of attributes of a name; :class:`NotALiteral` otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    raise NotALiteral(type(node).__name__)


def read_literal(node: ast.expr) -> Any:
    """The value of ``node``, written the way dumpscript writes values; raises
    :class:`NotALiteral` for any other expression. Runs no code of the script."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = read_literal(node.operand)
        if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal | datetime.timedelta):
            raise NotALiteral("a sign before a value that is not a number")
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.List):
        return [read_literal(item) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(read_literal(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise NotALiteral("** in a dict")
        return {read_literal(key): read_literal(value) for key, value in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.Attribute):
        name = dotted(node)
        if name in _ATTRIBUTES:
            return _ATTRIBUTES[name]
        raise NotALiteral(name)
    if isinstance(node, ast.Call):
        function = _CALLABLES.get(dotted(node.func))
        if function is None:
            raise NotALiteral("a call")
        args = [read_literal(arg) for arg in node.args]
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise NotALiteral("** arguments")
            kwargs[keyword.arg] = read_literal(keyword.value)
        try:
            return function(*args, **kwargs)
        except (TypeError, ValueError, ArithmeticError, LookupError) as error:
            raise NotALiteral(str(error)) from error
    raise NotALiteral(type(node).__name__)


def same(a: Any, b: Any) -> bool:
    """Equal, of the same type, and for numbers written the same (``-0.0``, ``Decimal("1.50")``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float | decimal.Decimal):
        return repr(a) == repr(b)
    if isinstance(a, datetime.datetime | datetime.time):
        return bool(a == b) and a.tzinfo == b.tzinfo and a.fold == b.fold
    return bool(a == b)
