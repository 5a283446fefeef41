"""A picture of the rows of some models, independent of primary keys, for comparing two
databases: each row is its model, its own values (auto primary keys left out) and, for each
relation, the picture of the row it points at (foreign keys, one-to-ones, generic foreign keys,
many-to-many links). Written with the plain ORM, not with dumpscript."""

from __future__ import annotations

import datetime
import decimal
import math
from collections import Counter
from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, models

Row = tuple[Any, ...]


def freeze(value: Any) -> Any:
    """A hashable, exact form of a value (``1`` ≠ ``1.0`` ≠ ``True``; NaN equals NaN)."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, decimal.Decimal):
        return ("decimal", str(value))
    if isinstance(value, memoryview | bytearray | bytes):
        return ("bytes", bytes(value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(key), freeze(item)) for key, item in value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(freeze(item) for item in value))
    if isinstance(value, datetime.datetime):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    if hasattr(value, "name") and hasattr(value, "field"):  # FieldFile
        return ("file", value.name)
    try:
        hash(value)
    except TypeError:
        return (type(value).__name__, repr(value))
    return (type(value).__name__, value)


_DANGLING = object()

PLAIN_MODULES = {"builtins", "datetime", "decimal", "uuid", "django.db.models.fields.files"}
"""Value types compared as they are; others by what the database stores."""


def _is_auto_pk(field: models.Field[Any, Any]) -> bool:
    return field.primary_key and isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField)


class Picture:
    """The rows of ``models_`` in database ``using``."""

    def __init__(self, using: str, models_: list[type[models.Model]]) -> None:
        from django.db import connections

        self.using = using
        self.models = models_
        self.tables = set(connections[using].introspection.table_names())
        self._signatures: dict[type[models.Model], dict[Any, Row]] = {}
        self._keys: dict[tuple[type[models.Model], str], dict[Any, Any]] = {}

    def signature(self, model: type[models.Model], pk: Any) -> Row:
        if model is ContentType:
            try:
                ct = ContentType.objects.db_manager(self.using).get_for_id(pk)
            except ContentType.DoesNotExist:
                return ("contenttype", "missing")
            return ("contenttype", ct.app_label, ct.model)
        concrete = model._meta.concrete_model
        assert concrete is not None
        table = self._signatures.get(concrete)
        if table is None:
            gfk_ids = {p.fk_field for p in concrete._meta.private_fields if isinstance(p, GenericForeignKey)}
            fields = [
                f
                for f in concrete._meta.concrete_fields
                if not f.is_relation and not _is_auto_pk(f) and f.name not in gfk_ids
            ]
            table = {}
            for obj in concrete._base_manager.using(self.using).order_by():
                table[freeze(obj.pk)] = (concrete._meta.label, *(freeze(self._stored(f, obj)) for f in fields))
            self._signatures[concrete] = table
        return table.get(freeze(pk), ("missing", model._meta.label))

    def _by(self, model: type[models.Model], attname: str) -> dict[Any, Any]:
        """``{value of attname: pk}`` of every row of ``model``, read once without parameters
        (psycopg refuses a query with parameters on a column named with ``%``: ``inspectdb``)."""
        key = (model, attname)
        if key not in self._keys:
            rows = model._base_manager.using(self.using).order_by().values_list(attname, "pk")
            self._keys[key] = {freeze(value): pk for value, pk in rows}
        return self._keys[key]

    def _stored(self, field: models.Field[Any, Any], obj: models.Model) -> Any:
        """The value of ``field``; a value of a type of the project (``serializers.Team``) as the
        database stores it (such types seldom compare by value)."""
        from django.db import connections

        value = field.value_from_object(obj)
        if value is None or type(value).__module__ in PLAIN_MODULES:
            return value
        return field.get_db_prep_save(value, connections[self.using])

    def rows(self, links: bool = True) -> Counter[Row]:
        """Every row's picture; without ``links``, without its many-to-many links (a subset
        holds a referenced row without the links to rows outside it)."""
        result: Counter[Row] = Counter()
        for model in self.models:
            relations = [
                f
                for f in model._meta.concrete_fields
                if f.is_relation and not getattr(f.remote_field, "parent_link", False)
            ]
            gfks = [p for p in model._meta.private_fields if isinstance(p, GenericForeignKey)]
            try:
                objects = list(model._base_manager.using(self.using).order_by())
            except DatabaseError as error:  # Django cannot read it here (a column named with %)
                result[("unreadable", model._meta.label, type(error).__name__)] += 1
                continue
            for obj in objects:
                row: list[Any] = [self.signature(model, obj.pk)]
                for f in relations:
                    value = getattr(obj, f.attname)
                    if value is None:
                        row.append((f.name, None))
                        continue
                    target = f.related_model
                    found = self._by(target, f.target_field.attname).get(freeze(value), _DANGLING)
                    row.append((f.name, self.signature(target, found) if found is not _DANGLING else ("dangling",)))
                for gfk in gfks:
                    row.append((gfk.name, *self._generic(obj, gfk)))
                for m2m in model._meta.local_many_to_many if links else ():
                    through = getattr(m2m.remote_field, "through", None)
                    if not isinstance(m2m, models.ManyToManyField) or through._meta.db_table not in self.tables:
                        continue
                    targets = sorted(
                        (
                            self.signature(m2m.related_model, pk)
                            for pk in getattr(obj, m2m.name).order_by().values_list("pk", flat=True)
                        ),
                        key=repr,
                    )
                    row.append((m2m.name, tuple(targets)))
                result[tuple(row)] += 1
        return result

    def _generic(self, obj: models.Model, gfk: GenericForeignKey) -> tuple[Any, ...]:
        ct_id = getattr(obj, obj._meta.get_field(gfk.ct_field).attname)
        object_id = getattr(obj, gfk.fk_field)
        if ct_id is None:
            return (None, freeze(object_id))
        try:
            target = ContentType.objects.db_manager(self.using).get_for_id(ct_id).model_class()
        except ContentType.DoesNotExist:
            target = None
        if target is None:
            return ("stale content type", freeze(object_id))
        try:
            pk = target._meta.pk.to_python(object_id)
        except Exception:
            return ("bad id", freeze(object_id))
        return (target._meta.label, self.signature(target, pk))


def first_difference(source: Counter[Row], target: Counter[Row]) -> str:
    """One line that names the first row that differs."""
    missing = source - target
    extra = target - source
    if missing:
        row = min(missing, key=repr)
        return f"missing after load: {row[0][0]} {_short(row)}"
    if extra:
        row = min(extra, key=repr)
        return f"extra after load: {row[0][0]} {_short(row)}"
    return ""


def _short(row: Row) -> str:
    text = repr(row[1:] if len(row[0]) < 2 else row)
    return text if len(text) < 200 else text[:197] + "..."
