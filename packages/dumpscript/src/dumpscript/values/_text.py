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
from collections.abc import Callable
from typing import Any

from django.db import models

from dumpscript._types import AnyField
from dumpscript.errors import UnsupportedValueError
from dumpscript.values import _encoders as enc
from dumpscript.values import _literals as lit


def _float(value: float) -> str:
    if value != value:
        return 'float("nan")'
    if value in (float("inf"), float("-inf")):
        return '-float("inf")' if value < 0 else 'float("inf")'
    text = repr(abs(value))
    return "-" + text if str(value).startswith("-") else text


def _time_parts(value: datetime.time | datetime.datetime) -> str:
    parts = [value.hour, value.minute, value.second, value.microsecond]
    while len(parts) > 2 and parts[-1] == 0:
        parts.pop()
    return ", ".join(str(part) for part in parts)


def _tz_text(tz: datetime.tzinfo, names: enc.ImportRequester) -> str | None:
    """A time zone: UTC, a fixed offset, or a ``zoneinfo`` zone (None: no text for it)."""
    if tz is datetime.timezone.utc:
        return f"{names.module('datetime')}.timezone.utc"
    if isinstance(tz, datetime.timezone):
        offset = tz.utcoffset(None)
        return f"{names.module('datetime')}.timezone({_timedelta(offset, names)})"
    key = getattr(tz, "key", None)
    if isinstance(key, str) and type(tz).__module__ == "zoneinfo":
        return f"{names.module('zoneinfo')}.ZoneInfo({lit.string_text(key)})"
    return None


def _time_tail(value: datetime.time | datetime.datetime, names: enc.ImportRequester) -> str | None:
    """``, tzinfo=…`` and ``, fold=1`` as needed (None: a zone with no text)."""
    tail = ""
    if value.tzinfo is not None:
        tz = _tz_text(value.tzinfo, names)
        if tz is None:
            return None
        tail = f", tzinfo={tz}"
    return tail + (", fold=1" if value.fold else "")


def _datetime(value: datetime.datetime, names: enc.ImportRequester) -> str | None:
    tail = _time_tail(value, names)
    if tail is None:
        return None
    module = names.module("datetime")
    return f"{module}.datetime({value.year}, {value.month}, {value.day}, {_time_parts(value)}{tail})"


def _date(value: datetime.date, names: enc.ImportRequester) -> str:
    return f"{names.module('datetime')}.date({value.year}, {value.month}, {value.day})"


def _time(value: datetime.time, names: enc.ImportRequester) -> str | None:
    tail = _time_tail(value, names)
    if tail is None:
        return None
    return f"{names.module('datetime')}.time({_time_parts(value)}{tail})"


def _timedelta(value: datetime.timedelta, names: enc.ImportRequester) -> str:
    parts = [("days", value.days), ("seconds", value.seconds), ("microseconds", value.microseconds)]
    args = ", ".join(f"{key}={number}" for key, number in parts if number)
    return f"{names.module('datetime')}.timedelta({args})"


def _decimal(value: decimal.Decimal, names: enc.ImportRequester) -> str:
    return f'{names.name("decimal", "Decimal")}("{value}")'


def _uuid(value: uuid.UUID, names: enc.ImportRequester) -> str:
    return f'{names.module("uuid")}.UUID("{value}")'


def _bytes(value: bytes | bytearray | memoryview) -> str:
    return lit.bytes_text(bytes(value))


PLAIN: dict[type, Callable[[Any], str]] = {
    str: lit.string_text,
    int: str,
    bool: repr,
    float: _float,
    type(None): repr,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
}
"""Value type → its source text: the types whose text needs no import."""

IMPORTING: dict[type, Callable[[Any, enc.ImportRequester], str | None]] = {
    datetime.datetime: _datetime,
    datetime.date: _date,
    datetime.time: _time,
    datetime.timedelta: _timedelta,
    decimal.Decimal: _decimal,
    uuid.UUID: _uuid,
}
"""Value type → its source text, given the imports to ask for names (None: a value with no
text, such as a datetime in a time zone that is neither fixed nor a ``zoneinfo`` zone)."""


_BASES: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (str, str.__str__),
    (int, int.__int__),
    (float, float.__float__),
)
"""Subclasses of these (a ``TextChoices`` member, an ``IntEnum``) are written as their value."""


def python_text(value: Any, context: enc.EncodeContext) -> str:
    """Source of a plain Python value: the types Django's built-in fields return, and lists,
    tuples and dicts of them. The one writer of each value type: :func:`encode_python` parses
    this text. Raises :class:`~dumpscript.errors.UnsupportedValueError` naming the object."""
    kind = type(value)
    plain = PLAIN.get(kind)
    if plain is not None:
        return plain(value)
    importing = IMPORTING.get(kind)
    if importing is not None:
        text = importing(value, context.imports)
        if text is None:
            raise enc.unsupported(value.tzinfo, context, "datetime.timezone or zoneinfo.ZoneInfo")
        return text
    if kind is list:
        return "[" + ", ".join(python_text(item, context) for item in value) + "]"
    if kind is dict:
        items = (f"{python_text(k, context)}: {python_text(v, context)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if kind is tuple:
        inner = ", ".join(python_text(item, context) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    for base, convert in _BASES:
        if isinstance(value, base) and not isinstance(value, bool):
            return python_text(convert(value), context)
    for base, write in IMPORTING.items():  # a subclass: written from its attributes
        if isinstance(value, base):
            text = write(value, context.imports)
            if text is None:
                tz = getattr(value, "tzinfo", None)
                raise enc.unsupported(tz, context, "datetime.timezone or zoneinfo.ZoneInfo")
            return text
    if isinstance(value, bytes | bytearray):
        return lit.bytes_text(bytes(value))
    raise enc.unsupported(value, context)


_RANGES = "django.db.backends.postgresql.psycopg_any"


def range_text(value: Any, field: AnyField, context: enc.EncodeContext) -> str:
    """``NumericRange(1, 10)``, ``DateRange(…, …, "(]")``, ``DateTimeTZRange(empty=True)``: the
    class named from the field (psycopg 3 reads every range as ``Range``; psycopg2 needs these)."""
    base = getattr(field, "base_field", None)
    if isinstance(base, models.DateTimeField):
        name = "DateTimeTZRange"
    elif isinstance(base, models.DateField):
        name = "DateRange"
    elif isinstance(base, models.IntegerField | models.DecimalField | models.FloatField):
        name = "NumericRange"
    else:
        raise enc.unsupported(value, context, "a range of numbers, dates or datetimes")
    if not all(hasattr(value, a) for a in ("isempty", "lower", "upper", "lower_inc", "upper_inc")):
        raise enc.unsupported(value, context, "a psycopg range")
    cls = context.imports.name(_RANGES, name)
    if value.isempty:
        return f"{cls}(empty=True)"
    bounds = ("[" if value.lower_inc else "(") + ("]" if value.upper_inc else ")")
    args = [python_text(value.lower, context), python_text(value.upper, context)]
    return f"{cls}({', '.join(args + ([lit.string_text(bounds)] if bounds != '[)' else []))})"


def field_value_text(value: Any, field: AnyField, context: enc.EncodeContext) -> str:
    """Source of ``value`` of ``field``: what rendering ``encode_field_value`` gives."""
    if value is None:
        return "None"
    if value is enc.JSON_NULL:
        return enc.json_null_text(context.imports)
    encoder = enc.encoder_for(field)
    accepts = getattr(encoder, "accepts", None)
    if accepts is not None and isinstance(value, accepts) and (bool in accepts or type(value) is not bool):
        return python_text(value, context)
    if encoder is enc.encode_json:
        enc.check_json(value, context)
        return python_text(value, context)
    if encoder is enc.encode_range:
        return range_text(value, field, context)
    if encoder is enc.encode_file:
        return lit.string_text(value if isinstance(value, str) else str(value.name or ""))
    if encoder is enc.encode_array and isinstance(value, list):
        base = field.base_field  # type: ignore[attr-defined]
        return "[" + ", ".join(field_value_text(item, base, context) for item in value) + "]"
    from dumpscript.script.render import render_expression

    return render_expression(enc.encode_field_value(value, field, context))


def plain_writers(field: AnyField, imports: enc.ImportRequester | None = None) -> dict[type, Any]:
    """``{value type: function(value) -> text or None}`` for the common value types of
    ``field``: a shortcut past :func:`field_value_text` giving the same text (None: take the
    long way), from the same writers as :func:`python_text`. With ``imports``, also the types
    whose text needs an import (dates, decimals, UUIDs), each name asked for once."""
    encoder = enc.encoder_for(field)
    accepts = getattr(encoder, "accepts", None)
    if encoder is enc.encode_json and imports is not None:
        return dict.fromkeys((dict, list, str, int, float, bool), _json_writer(enc.EncodeContext(imports)))
    if accepts is None:
        return {}
    writers: dict[type, Any] = {kind: PLAIN[kind] for kind in accepts if kind in PLAIN}
    if imports is not None:
        names = _Names(imports)
        writers.update({kind: _bound(IMPORTING[kind], names) for kind in accepts if kind in IMPORTING})
    return writers


def _bound(
    write: Callable[[Any, enc.ImportRequester], str | None], names: enc.ImportRequester
) -> Callable[[Any], str | None]:
    return lambda value: write(value, names)


class _Names:
    """Import names asked for once, then remembered (a writer asks for each value)."""

    __slots__ = ("imports", "known")

    def __init__(self, imports: enc.ImportRequester) -> None:
        self.imports = imports
        self.known: dict[tuple[str, str], str] = {}

    def module(self, module: str) -> str:
        key = (module, "")
        if key not in self.known:
            self.known[key] = self.imports.module(module)
        return self.known[key]

    def name(self, module: str, name: str) -> str:
        key = (module, name)
        if key not in self.known:
            self.known[key] = self.imports.name(module, name)
        return self.known[key]


def _json_writer(context: enc.EncodeContext) -> Any:
    """A JSON value's text, as :func:`field_value_text` writes it; None (take the long way,
    which names the object in its error) for a value that is not plain JSON."""

    def write(value: Any) -> str | None:
        try:
            enc.check_json(value, context)
            return python_text(value, context)
        except UnsupportedValueError:
            return None

    return write
