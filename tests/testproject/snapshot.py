"""An independent picture of a database's contents, for round-trip comparisons.

Built with the plain ORM, not with dumpscript. Every object is identified by its
*signature*: its model and the values of its non-relational fields (auto primary keys left
out), which the test data keeps unique per model. A row is its signature plus, for each
relation, the signature of the object it points at (foreign keys, one-to-ones, generic
foreign keys, many-to-many links), so two snapshots are equal exactly when every field and
every relation of every object is equal, whatever the primary keys.
"""

from __future__ import annotations

import decimal
import math
from collections import Counter
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

Row = tuple[Any, ...]


def freeze(value: Any) -> Any:
    """A hashable, exact form of a field value (``1`` ≠ ``1.0`` ≠ ``True``; NaN equals NaN)."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, decimal.Decimal):
        return ("decimal", str(value))
    if isinstance(value, memoryview | bytearray):
        return ("bytes", bytes(value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((key, freeze(item)) for key, item in value.items())))
    if isinstance(value, list):
        return ("list", tuple(freeze(item) for item in value))
    if hasattr(value, "name") and hasattr(value, "field"):  # FieldFile
        return ("file", value.name)
    return (type(value).__name__, value)


def _is_auto_pk(field: models.Field) -> bool:
    return field.primary_key and isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField)


def _plain_fields(model: type[models.Model]) -> list[models.Field]:
    gfk_parts = set()
    for private in model._meta.private_fields:
        if isinstance(private, GenericForeignKey):
            gfk_parts.add(private.fk_field)
    return [
        f for f in model._meta.concrete_fields if not f.is_relation and not _is_auto_pk(f) and f.name not in gfk_parts
    ]


def _relations(model: type[models.Model]) -> list[models.Field]:
    return [
        f for f in model._meta.concrete_fields if f.is_relation and not getattr(f.remote_field, "parent_link", False)
    ]


class Snapshot:
    def __init__(self, using: str, app_labels: tuple[str, ...] = ("testapp",)) -> None:
        self.using = using
        self.models = [
            model for label in app_labels for model in apps.get_app_config(label).get_models() if not model._meta.proxy
        ]
        self._signatures: dict[type[models.Model], dict[Any, Row]] = {}

    def signature(self, model: type[models.Model], pk: Any) -> Row:
        if model is ContentType:
            ct = ContentType.objects.db_manager(self.using).get_for_id(pk)
            return ("contenttype", ct.app_label, ct.model)
        concrete = model._meta.concrete_model
        assert concrete is not None
        table = self._signatures.get(concrete)
        if table is None:
            fields = _plain_fields(concrete)
            table = {}
            for obj in concrete._base_manager.using(self.using).all():
                table[obj.pk] = (concrete._meta.label, *(freeze(f.value_from_object(obj)) for f in fields))
            sigs = Counter(table.values())
            duplicated = [sig for sig, count in sigs.items() if count > 1]
            assert not duplicated, f"test data must keep signatures unique: {duplicated[:3]}"
            self._signatures[concrete] = table
        return table[pk]

    def rows(self) -> Counter[Row]:
        result: Counter[Row] = Counter()
        for model in self.models:
            gfks = [p for p in model._meta.private_fields if isinstance(p, GenericForeignKey)]
            for obj in model._base_manager.using(self.using).all():
                row: list[Any] = [self.signature(model, obj.pk)]
                for f in _relations(model):
                    target_id = getattr(obj, f.attname)
                    if target_id is None:
                        row.append((f.name, None))
                        continue
                    target_model = f.related_model
                    lookup = {f.target_field.attname: target_id}
                    target_pk = target_model._base_manager.using(self.using).get(**lookup).pk
                    row.append((f.name, self.signature(target_model, target_pk)))
                for gfk in gfks:
                    ct_id = getattr(obj, model._meta.get_field(gfk.ct_field).attname)
                    object_id = getattr(obj, gfk.fk_field)
                    if ct_id is None:
                        row.append((gfk.name, None, object_id))
                        continue
                    target_model = ContentType.objects.db_manager(self.using).get_for_id(ct_id).model_class()
                    pk = target_model._meta.pk.to_python(object_id)
                    row.append((gfk.name, self.signature(target_model, pk)))
                for m2m in model._meta.local_many_to_many:
                    targets = sorted(
                        self.signature(m2m.related_model, pk)
                        for pk in getattr(obj, m2m.name).values_list("pk", flat=True)
                    )
                    row.append((m2m.name, tuple(targets)))
                result[tuple(row)] += 1
        return result

    def through_rows(self) -> Counter[Row]:
        """Rows of the auto-created many-to-many tables, as pairs of signatures."""
        result: Counter[Row] = Counter()
        for model in self.models:
            for m2m in model._meta.local_many_to_many:
                through = m2m.remote_field.through
                if not through._meta.auto_created:
                    continue
                source = through._meta.get_field(m2m.m2m_field_name()).attname
                target = through._meta.get_field(m2m.m2m_reverse_field_name()).attname
                for source_pk, target_pk in through._base_manager.using(self.using).values_list(source, target):
                    result[
                        (m2m.name, self.signature(model, source_pk), self.signature(m2m.related_model, target_pk))
                    ] += 1
        return result

    def contents(self) -> Counter[Row]:
        return self.rows() + self.through_rows()
