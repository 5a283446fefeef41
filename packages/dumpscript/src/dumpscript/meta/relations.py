"""What the models say about their rows: the fields a script writes and the references between
rows (the one place that knows the kinds of relation: a foreign key or one-to-one by key or by
another unique field, a generic foreign key, a multi-table parent link, a many-to-many field)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import models

from dumpscript._types import AnyField, AnyForeignKey, AnyManyToMany
from dumpscript.meta.embedded import EmbeddedIds, embedded_ids

Model = type[models.Model]


@functools.cache
def concrete_of(model: Model) -> Model:
    """The model whose objects hold the rows of ``model``: its concrete model, or for an
    unmanaged model over the table of a managed one (``unmanaged_models``), that model."""
    concrete = model._meta.concrete_model
    assert concrete is not None
    if not concrete._meta.managed:
        from django.apps import apps

        table = concrete._meta.db_table
        owners = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy and m._meta.db_table == table]
        if len(owners) == 1:
            return owners[0]
    return concrete


def by_key(field: AnyField) -> bool:
    """A relation to a model whose rows another model's objects hold (:func:`concrete_of`):
    written by key (``fk_id=var.pk``), Django refusing an object of the other class."""
    related = field.related_model
    return isinstance(related, type) and concrete_of(related) is not related._meta.concrete_model


@functools.cache
def root_model(model: Model) -> Model:
    """The model whose primary keys the rows of ``model`` have: up the parent links that are
    primary keys (the top of a multi-table chain, unless a child has a key of its own)."""
    pk = model._meta.pk
    while pk is not None and pk.remote_field is not None and getattr(pk.remote_field, "parent_link", False):
        model = pk.related_model  # type: ignore[assignment]
        pk = model._meta.pk
    return model


@functools.cache
def other_roots(model: Model) -> tuple[tuple[Model, str], ...]:
    """``(root, field)`` for each ancestor whose rows have other keys than ``model``'s (a child
    with a primary key of its own, a second parent): that ancestor's :func:`root_model`, and
    the field of ``model`` that holds the key of its row there."""
    result: list[tuple[Model, str]] = []
    seen = {root_model(model)}
    for parent in model._meta.get_parent_list():
        root = root_model(parent)
        if root not in seen:
            seen.add(root)
            link = next(
                k._meta.parents[parent] for k in [model, *model._meta.get_parent_list()] if parent in k._meta.parents
            )
            assert link is not None
            result.append((root, link.name))
    return tuple(result)


def common_ancestor(a: Model, b: Model) -> Model:
    """The most derived model that both ``a`` and ``b`` inherit (multi-table) from."""
    shared = [m for m in [b, *b._meta.get_parent_list()] if m in a._meta.get_parent_list()]
    return max(shared, key=lambda m: len(m._meta.get_parent_list()))


def parent_link(child: Model, parent: Model) -> str:
    """The name of the field of ``child`` that links its row to the row of ``parent`` that it
    shares with another child (a restaurant that is a bar: ``place_ptr``)."""
    link = child._meta.get_ancestor_link(common_ancestor(child, parent))
    assert link is not None
    return link.name


def _is_auto_pk(f: AnyField) -> bool:
    return f.primary_key and isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField)


def written_fields(model: Model, keep_pks: bool) -> list[AnyField]:
    """The concrete fields the script sets on ``model``: not parent links, not generated fields,
    not an auto primary key (unless ``keep_pks``)."""
    result = []
    for f in model._meta.concrete_fields:
        if f.remote_field is not None and getattr(f.remote_field, "parent_link", False):
            continue
        if getattr(f, "generated", False):
            continue
        if _is_auto_pk(f) and not keep_pks:
            continue
        result.append(f)
    return result


@dataclass(frozen=True)
class GenericFK:
    name: str
    ct_field: AnyForeignKey
    fk_field: AnyField
    nullable: bool


@functools.cache
def generic_fks(model: Model) -> list[GenericFK]:
    try:
        from django.contrib.contenttypes.fields import GenericForeignKey
    except ImportError:  # pragma: no cover - contenttypes is not importable
        return []
    found: dict[str, GenericFK] = {}
    for klass in [model, *model._meta.get_parent_list()]:
        for private in klass._meta.private_fields:
            if isinstance(private, GenericForeignKey) and private.name not in found:
                ct_field = model._meta.get_field(private.ct_field)
                fk_field = model._meta.get_field(private.fk_field)
                assert isinstance(ct_field, models.ForeignKey)
                assert isinstance(fk_field, models.Field)
                nullable = ct_field.null and fk_field.null
                found[private.name] = GenericFK(private.name, ct_field, fk_field, nullable)
    return list(found.values())


def nullable(model: Model, name: str) -> bool:
    """The reference ``name`` of ``model`` (a field or a generic relation) may be None (keys
    inside a value may not: the value holds other data)."""
    for gfk in generic_fks(model):
        if gfk.name == name:
            return gfk.nullable
    field = model._meta.get_field(name)
    return bool(field.null) and embedded_ids(field) is None


def deferrable(model: Model, name: str, deferred_checks: bool) -> bool:
    """The reference ``name`` can be set after both objects exist: it may be None; or it is a
    generic relation (two plain columns, no constraint); or a foreign key that is not unique,
    on a database that checks foreign keys at commit (``deferred_checks``: PostgreSQL, SQLite),
    written meanwhile with its old value as a placeholder."""
    if nullable(model, name) or any(gfk.name == name for gfk in generic_fks(model)):
        return True
    field = model._meta.get_field(name)
    if embedded_ids(field) is not None:
        return False
    if getattr(field.remote_field, "parent_link", False) or getattr(field, "unique", False):
        return False
    return deferred_checks and isinstance(field, models.ForeignKey)


def attname(model: Model, name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.attname


@dataclass(frozen=True)
class Reference:
    """A reference of a model's rows to another row, read from the row's columns."""

    name: str
    """The field (or generic relation) that holds it."""
    kind: Literal["key", "field", "generic", "embedded"]
    """``key``: a foreign key to the target's primary key; ``field``: to another unique field
    (``to_field="email"``); ``generic``: a content type and an object id; ``embedded``: keys
    inside a value (:func:`~dumpscript.register_ids`)."""
    column: int
    """Position in a row ``(pk, *columns)`` of the value (for ``generic``: of the object id)."""
    target: Model | None = None
    """The concrete target model (not for ``generic``)."""
    by: str = ""
    """For ``field``: the target's field attname."""
    ct_column: int = 0
    """For ``generic``: position of the content type id."""
    ids: EmbeddedIds | None = None
    """For ``embedded``: where the keys are in the value."""


def reference_columns(fields: Iterable[AnyField], model: Model) -> list[str]:
    """The attnames a row must hold to find ``model``'s references (relations among ``fields``,
    then the parts of its generic relations)."""
    columns = [f.attname for f in fields if (f.is_relation and f.remote_field is not None) or embedded_ids(f)]
    for gfk in generic_fks(model):
        for name in (gfk.ct_field.attname, gfk.fk_field.attname):
            if name not in columns:
                columns.append(name)
    return columns


def references(model: Model, fields: Iterable[AnyField], columns: list[str]) -> list[Reference]:
    """The references of ``model`` among ``fields`` (and its generic relations), with their
    positions in rows ``(pk, *columns)``."""
    position = {name: number + 1 for number, name in enumerate(columns)}
    found = []
    for f in fields:
        ids = embedded_ids(f)
        if ids is not None:
            found.append(Reference(f.name, "embedded", position[f.attname], ids.model(), ids=ids))
        if not f.is_relation or f.remote_field is None:
            continue
        target_field = f.target_field  # type: ignore[attr-defined]
        target_model = f.related_model
        assert isinstance(target_model, type)
        target = concrete_of(target_model)
        if target_field.primary_key:
            found.append(Reference(f.name, "key", position[f.attname], target))
        else:  # a foreign key to another unique field (to_field="email")
            found.append(Reference(f.name, "field", position[f.attname], target, by=target_field.attname))
    for gfk in generic_fks(model):
        found.append(
            Reference(gfk.name, "generic", position[gfk.fk_field.attname], ct_column=position[gfk.ct_field.attname])
        )
    return found


def auto_m2m_fields(selected: Iterable[Model]) -> list[AnyManyToMany]:
    """The many-to-many fields of the selected models whose links are rows of an automatic
    through table (explicit through models are dumped as objects), in label order. A field
    that is in ``_meta.many_to_many`` but is no ``ManyToManyField`` (django-taggit's
    ``TaggableManager``) has its own through model, dumped as objects."""
    declared: dict[AnyManyToMany, None] = {}
    for model in sorted(set(selected), key=lambda m: m._meta.label):
        for m2m in model._meta.many_to_many:
            if not isinstance(m2m, models.ManyToManyField):
                continue
            through = m2m.remote_field.through
            assert through is not None
            if through._meta.auto_created:
                declared.setdefault(m2m)
    return list(declared)


@dataclass(frozen=True)
class Lookup:
    """A row found when the script runs: by natural key
    (``Model.objects.get_by_natural_key(...)``) or, with ``fields``, by unique fields
    (``Model.objects.get(email=...)``)."""

    model: Model
    key: tuple[Any, ...]
    fields: tuple[str, ...] = ()
