"""The encoder registry and the encoders for Django's built-in field types."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import libcst as cst
from django.db import models

from dumpscript._types import AnyField
from dumpscript.errors import UnsupportedValueError
from dumpscript.values import _literals as lit

__all__ = [
    "EncodeContext",
    "Encoder",
    "encode_field_value",
    "encode_python",
    "encoder_for",
    "register_encoder",
]


class ImportRequester(Protocol):
    """What encoders need from the import manager: ask for a name, get the local name."""

    def module(self, module: str) -> str: ...

    def name(self, module: str, name: str) -> str: ...


class EncodeContext:
    """Passed to every encoder: where imports are requested and what is being encoded."""

    def __init__(self, imports: ImportRequester, where: str | Callable[[], str] = "value") -> None:
        self.imports = imports
        self._where = where

    @property
    def where(self) -> str:
        """The object being written, for error messages: ``app.Model(pk=1).field``."""
        return self._where() if callable(self._where) else self._where

    def attribute(self, module: str, dotted: str) -> cst.BaseExpression:
        """``module.dotted`` with ``import module`` requested."""
        return lit.attribute(f"{self.imports.module(module)}.{dotted}")

    def imported(self, module: str, name: str) -> cst.Name:
        """``name`` with ``from module import name`` requested."""
        return lit.name(self.imports.name(module, name))


Encoder = Callable[[Any, AnyField, EncodeContext], cst.BaseExpression]
"""``encoder(value, field, context) -> expression``; raise UnsupportedValueError if unsure."""

_REGISTRY: dict[type, Encoder] = {}


def register_encoder(field_class: type[AnyField], encoder: Encoder) -> None:
    """Use ``encoder`` for ``field_class`` and its subclasses (unless they have their own).

    The encoder receives the field's Python value (as ``from_db_value`` returns it), the field
    and an :class:`EncodeContext`, and returns a LibCST expression; helpers such as
    :func:`encode_python` and ``context.imported(module, name)`` build the usual ones::

        def encode_money(value, field, context):
            return lit.call(context.imported("shop.money", "Money"),
                            [encode_python(value.amount, context), lit.string(value.currency)])

        register_encoder(MoneyField, encode_money)
    """
    _REGISTRY[field_class] = encoder
    _BY_CLASS.clear()


_BY_CLASS: dict[type, Encoder | None] = {}


def encoder_for(field: AnyField) -> Encoder | None:
    field_class = type(field)
    if field_class not in _BY_CLASS:
        _BY_CLASS[field_class] = next((_REGISTRY[klass] for klass in field_class.__mro__ if klass in _REGISTRY), None)
    return _BY_CLASS[field_class]


def field_label(field: AnyField) -> str:
    return f"{field.model._meta.label}.{field.name}"


def encode_field_value(value: Any, field: AnyField, context: EncodeContext) -> cst.BaseExpression:
    """Encode ``value`` of ``field``; ``None`` is always ``None``."""
    if value is None:
        return lit.name("None")
    encoder = encoder_for(field)
    if encoder is None:
        raise UnsupportedValueError(
            f"Cannot dump {field_label(field)}: no encoder for field type "
            f"{type(field).__module__}.{type(field).__qualname__}; register one with "
            f"dumpscript.register_encoder({type(field).__qualname__}, encoder)"
        )
    return encoder(value, field, context)


def unsupported(value: Any, context: EncodeContext, expected: str = "") -> UnsupportedValueError:
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    hint = f" (expected {expected})" if expected else ""
    return UnsupportedValueError(
        f"Cannot dump {context.where}: value of type {kind}{hint} has no encoder; "
        "register one with dumpscript.register_encoder(FieldClass, encoder)"
    )


def encode_python(value: Any, context: EncodeContext) -> cst.BaseExpression:
    """Encode a plain Python value (the types Django's built-in fields return, and lists,
    tuples and dicts of them) as a LibCST expression: the text :func:`python_text` writes,
    parsed. For encoders that compose values (``Money(Decimal("9.99"), "EUR")``)."""
    from dumpscript.values._text import python_text

    return cst.parse_expression(python_text(value, context))


def _typed(*types: type, expected: str) -> Encoder:
    def encode(value: Any, field: AnyField, context: EncodeContext) -> cst.BaseExpression:
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise unsupported(value, context, expected)
        return encode_python(value, context)

    encode.accepts = types  # type: ignore[attr-defined]  # for the fast text path
    return encode


_JSON_SCALARS = (str, int, float, bool, type(None))


def check_json(value: Any, context: EncodeContext) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise unsupported(key, context, "str keys in JSON")
            check_json(item, context)
    elif isinstance(value, list):
        for item in value:
            check_json(item, context)
    elif not isinstance(value, _JSON_SCALARS):
        raise unsupported(value, context, "JSON data")


class _JsonNull:
    """JSON ``null`` in a JSONField (SQL ``NULL`` is ``None``): written ``Value(None, JSONField())``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "JSON_NULL"


JSON_NULL = _JsonNull()


def json_null_text(names: ImportRequester) -> str:
    return f"{names.name('django.db.models', 'Value')}(None, {names.name('django.db.models', 'JSONField')}())"


def encode_json(value: Any, field: AnyField, context: EncodeContext) -> cst.BaseExpression:
    if value is JSON_NULL:
        return cst.parse_expression(json_null_text(context.imports))
    check_json(value, context)
    return encode_python(value, context)


def encode_range(value: Any, field: AnyField, context: EncodeContext) -> cst.BaseExpression:
    from dumpscript.values._text import range_text

    return cst.parse_expression(range_text(value, field, context))


def encode_file(value: Any, field: AnyField, context: EncodeContext) -> cst.BaseExpression:
    # values_list() returns the stored name; a model instance returns a FieldFile.
    return lit.string(value if isinstance(value, str) else str(value.name or ""))


def encode_array(value: Any, field: AnyField, context: EncodeContext) -> cst.BaseExpression:
    base = field.base_field  # type: ignore[attr-defined]
    if not isinstance(value, list):
        raise unsupported(value, context, "list")
    return cst.List([cst.Element(encode_field_value(item, base, context)) for item in value])


def _register_builtins() -> None:
    text = _typed(str, expected="str")
    for klass in (models.CharField, models.TextField, models.FilePathField, models.GenericIPAddressField):
        register_encoder(klass, text)
    register_encoder(models.IPAddressField, text)  # type: ignore[attr-defined]
    register_encoder(models.BooleanField, _typed(bool, expected="bool"))
    register_encoder(models.IntegerField, _typed(int, expected="int"))
    register_encoder(models.BigIntegerField, _typed(int, expected="int"))
    register_encoder(models.SmallIntegerField, _typed(int, expected="int"))
    register_encoder(models.PositiveIntegerField, _typed(int, expected="int"))
    register_encoder(models.PositiveSmallIntegerField, _typed(int, expected="int"))
    register_encoder(models.PositiveBigIntegerField, _typed(int, expected="int"))
    register_encoder(models.AutoField, _typed(int, expected="int"))
    register_encoder(models.BigAutoField, _typed(int, expected="int"))
    register_encoder(models.SmallAutoField, _typed(int, expected="int"))
    register_encoder(models.FloatField, _typed(float, int, expected="float"))
    register_encoder(models.DecimalField, _typed(decimal.Decimal, expected="Decimal"))
    register_encoder(models.DateTimeField, _typed(datetime.datetime, expected="datetime"))
    register_encoder(models.DateField, _typed(datetime.date, expected="date"))
    register_encoder(models.TimeField, _typed(datetime.time, expected="time"))
    register_encoder(models.DurationField, _typed(datetime.timedelta, expected="timedelta"))
    register_encoder(models.UUIDField, _typed(uuid.UUID, expected="UUID"))
    register_encoder(models.BinaryField, _typed(bytes, bytearray, memoryview, expected="bytes"))
    register_encoder(models.JSONField, encode_json)
    register_encoder(models.FileField, encode_file)
    try:
        from django.contrib.postgres.fields import ArrayField, HStoreField
    except ImportError:  # psycopg is not installed
        return
    from django.contrib.postgres.fields import RangeField
    from django.contrib.postgres.search import SearchVectorField

    register_encoder(ArrayField, encode_array)
    register_encoder(HStoreField, encode_json)
    register_encoder(RangeField, encode_range)
    register_encoder(SearchVectorField, text)  # read and written as its text: "'fox':4 'quick':2"


_register_builtins()
