"""Source text of field values, fast: the same text as rendering the encoders' LibCST nodes.

Building and rendering LibCST nodes costs tens of microseconds a value, too slow for dumps of
a million rows. For the value types of Django's built-in fields this module writes the source
directly; it must give exactly the text that :func:`encode_python` followed by rendering gives
(property tests check it), and anything it does not know falls back to that path, custom
encoders included.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from dumpscript._types import AnyField
from dumpscript.errors import UnsupportedValueError
from dumpscript.values import _encoders as enc
from dumpscript.values import _literals as lit


class _Fallback(Exception):
    pass


def _float(value: float) -> str:
    if value != value:
        return 'float("nan")'
    if value in (float("inf"), float("-inf")):
        return '-float("inf")' if value < 0 else 'float("inf")'
    text = repr(abs(value))
    return "-" + text if str(value).startswith("-") else text


def _tz(tz: datetime.tzinfo | None, context: enc.EncodeContext) -> str:
    if tz is datetime.timezone.utc:
        return f", tzinfo={context.imports.module('datetime')}.timezone.utc"
    raise _Fallback


def _time_parts(value: datetime.time | datetime.datetime) -> str:
    parts = [value.hour, value.minute, value.second, value.microsecond]
    while len(parts) > 2 and parts[-1] == 0:
        parts.pop()
    return ", ".join(str(part) for part in parts)


def python_text(value: Any, context: enc.EncodeContext) -> str:
    """Source of a plain Python value; raises _Fallback for what only the CST path writes."""
    kind = type(value)
    if kind is str:
        return lit.string_text(value)
    if value is None or kind is bool:
        return repr(value)
    if kind is int:
        return str(value)
    if kind is float:
        return _float(value)
    if kind is decimal.Decimal:
        return f'{context.imports.name("decimal", "Decimal")}("{value}")'
    if kind is datetime.datetime:
        if value.fold:
            raise _Fallback
        tz = _tz(value.tzinfo, context) if value.tzinfo is not None else ""
        module = context.imports.module("datetime")
        return f"{module}.datetime({value.year}, {value.month}, {value.day}, {_time_parts(value)}{tz})"
    if kind is datetime.date:
        return f"{context.imports.module('datetime')}.date({value.year}, {value.month}, {value.day})"
    if kind is datetime.time:
        if value.fold or value.tzinfo is not None:
            raise _Fallback
        return f"{context.imports.module('datetime')}.time({_time_parts(value)})"
    if kind is datetime.timedelta:
        parts = [("days", value.days), ("seconds", value.seconds), ("microseconds", value.microseconds)]
        args = ", ".join(f"{key}={number}" for key, number in parts if number)
        return f"{context.imports.module('datetime')}.timedelta({args})"
    if kind is uuid.UUID:
        return f'{context.imports.module("uuid")}.UUID("{value}")'
    if kind is bytes or kind is memoryview or kind is bytearray:
        return lit.bytes_text(bytes(value))
    if kind is list:
        return "[" + ", ".join(python_text(item, context) for item in value) + "]"
    if kind is dict:
        items = (f"{python_text(k, context)}: {python_text(v, context)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise _Fallback


def field_value_text(value: Any, field: AnyField, context: enc.EncodeContext) -> str:
    """Source of ``value`` of ``field``: what rendering ``encode_field_value`` gives."""
    if value is None:
        return "None"
    encoder = enc.encoder_for(field)
    accepts = getattr(encoder, "accepts", None)
    try:
        if accepts is not None and isinstance(value, accepts) and (bool in accepts or type(value) is not bool):
            return python_text(value, context)
        if encoder is enc.encode_json:
            enc.check_json(value, context)
            return python_text(value, context)
        if encoder is enc.encode_file:
            return lit.string_text(value if isinstance(value, str) else str(value.name or ""))
    except _Fallback:
        pass
    from dumpscript.cst._render import render_expression

    return render_expression(enc.encode_field_value(value, field, context))


def plain_writers(field: AnyField, imports: enc.ImportRequester | None = None) -> dict[type, Any]:
    """``{value type: function(value) -> text or None}`` for the common value types of
    ``field``: a shortcut past :func:`field_value_text` giving the same text (None: take the
    long way). With ``imports``, also the types whose text needs an import (dates, decimals,
    UUIDs), the import asked for once."""
    encoder = enc.encoder_for(field)
    accepts = getattr(encoder, "accepts", None)
    if encoder is enc.encode_json and imports is not None:
        return dict.fromkeys((dict, list, str, int, float, bool), _json_writer(enc.EncodeContext(imports)))
    if accepts is None:
        return {}
    writers: dict[type, Any] = {}
    if str in accepts:
        writers[str] = lit.string_text
    if int in accepts:
        writers[int] = str
    if bool in accepts:
        writers[bool] = repr
    if float in accepts:
        writers[float] = _float
    if imports is None:
        return writers
    if datetime.datetime in accepts or datetime.date in accepts or datetime.time in accepts:
        module = _Lazy(lambda: imports.module("datetime"))
        if datetime.datetime in accepts:
            writers[datetime.datetime] = lambda value: _datetime_text(value, module)
        if datetime.date in accepts:
            writers[datetime.date] = lambda value: f"{module()}.date({value.year}, {value.month}, {value.day})"
        if datetime.time in accepts:
            writers[datetime.time] = lambda value: (
                None if value.fold or value.tzinfo is not None else f"{module()}.time({_time_parts(value)})"
            )
    if decimal.Decimal in accepts:
        decimal_name = _Lazy(lambda: imports.name("decimal", "Decimal"))
        writers[decimal.Decimal] = lambda value: f'{decimal_name()}("{value}")'
    if datetime.timedelta in accepts:
        delta_module = _Lazy(lambda: imports.module("datetime"))
        writers[datetime.timedelta] = lambda value: _timedelta_text(value, delta_module)
    for kind in (bytes, bytearray, memoryview):
        if kind in accepts:
            writers[kind] = lambda value: lit.bytes_text(bytes(value))
    if uuid.UUID in accepts:
        uuid_module = _Lazy(lambda: imports.module("uuid"))
        writers[uuid.UUID] = lambda value: f'{uuid_module()}.UUID("{value}")'
    return writers


class _Lazy:
    """A name asked for from the imports on first use, then remembered."""

    __slots__ = ("ask", "value")

    def __init__(self, ask: Any) -> None:
        self.ask, self.value = ask, ""

    def __call__(self) -> str:
        if not self.value:
            self.value = self.ask()
        return self.value


def _datetime_text(value: datetime.datetime, module: _Lazy) -> str | None:
    if value.fold:
        return None
    tz = value.tzinfo
    if tz is None:
        suffix = ""
    elif tz is datetime.timezone.utc:
        suffix = f", tzinfo={module()}.timezone.utc"
    else:
        return None
    return f"{module()}.datetime({value.year}, {value.month}, {value.day}, {_time_parts(value)}{suffix})"


def _timedelta_text(value: datetime.timedelta, module: _Lazy) -> str:
    parts = [("days", value.days), ("seconds", value.seconds), ("microseconds", value.microseconds)]
    args = ", ".join(f"{key}={number}" for key, number in parts if number)
    return f"{module()}.timedelta({args})"


def _json_writer(context: enc.EncodeContext) -> Any:
    """A JSON value's text, as :func:`field_value_text` writes it; None (take the long way,
    which names the object in its error) for a value that is not plain JSON."""

    def write(value: Any) -> str | None:
        try:
            enc.check_json(value, context)
            return python_text(value, context)
        except (_Fallback, UnsupportedValueError):
            return None

    return write
