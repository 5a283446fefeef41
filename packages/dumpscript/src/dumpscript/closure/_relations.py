"""The relations by which rows of other models point at the rows of a model (its reverse
relations): reverse foreign keys and one-to-ones (multi-table parent links too), generic
relations, generic foreign keys that no generic relation declares, and many-to-many fields seen
from their targets; whether a delete cascades along each, and the names a user gives them.

Forward relations are not here: the rows they point at are always dumped (the graph follows
them). Automatic many-to-many through tables are not either: their rows are the links the graph
writes between dumped objects.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.fields.reverse_related import ForeignObjectRel

from dumpscript.meta.relations import Model, concrete_of, generic_fks, root_model

Kind = Literal["foreign key", "one-to-one", "generic relation", "generic foreign key", "many-to-many"]

_CASCADES = tuple(action for action in (models.CASCADE, getattr(models, "DB_CASCADE", None)) if action is not None)


@dataclass(frozen=True)
class Reverse:
    """A relation by which rows of ``related`` point at rows of ``model``."""

    model: Model
    """The (concrete) model whose rows are pointed at."""
    related: Model
    """The concrete model whose rows point at them: the rows that following the relation adds."""
    names: tuple[str, ...]
    """The names it answers to: the accessor, the related query name, ``Related.field``."""
    kind: Kind
    key: tuple[str, ...]
    """Who the relation is for the rules: the same from a model and from its multi-table children."""
    cascade: bool
    """A delete of ``model``'s rows takes the rows that point at them (what belongs to them)."""
    action: str
    """What a delete does to the rows that point here (``CASCADE``, ``SET_NULL``, …), or the kind."""
    lookup: str
    """The field of ``related`` to filter by: ``lookup__in`` the keys (or :attr:`target`)."""
    target: str | None = None
    """The column of ``model`` that the lookup compares with, when it is not its key."""
    content_type: str | None = None
    """For generic relations: the content type field of ``related``."""

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def label(self) -> str:
        """``app.Model.relation``: how the user names it."""
        return f"{self.model._meta.label}.{self.name}"


def _on_delete_name(action: Any) -> str:
    name = getattr(action, "__name__", type(action).__name__)
    return "SET(...)" if name == "set_on_delete" else name


def _from_rel(model: Model, rel: ForeignObjectRel) -> Reverse | None:
    related = rel.related_model
    if not isinstance(related, type) or related._meta.auto_created:
        return None  # links of an automatic many-to-many table: written by the graph
    field: Any = rel.field
    if _is_generic_relation(field):
        return None  # the other side of a generic relation: a forward relation, seen from here
    accessor = rel.get_accessor_name()
    query_name = field.related_query_name()
    names = tuple(
        dict.fromkeys(
            name for name in (accessor, query_name, f"{related.__name__}.{field.name}") if name and "+" not in name
        )
    )
    if rel.many_to_many:
        if field.remote_field.symmetrical and concrete_of(related) is model:
            return None  # a symmetrical field to its own model: the forward field has every link
        target_model = concrete_of(rel.model) if isinstance(rel.model, type) else model
        direct = root_model(target_model) is root_model(model)
        return Reverse(
            model,
            concrete_of(related),
            names,
            "many-to-many",
            ("m2m", related._meta.label, field.name),
            False,
            "many-to-many",
            field.name,
            None if direct else target_model._meta.pk.attname,  # type: ignore[union-attr]
        )
    if not (field.concrete and len(field.foreign_related_fields) == 1):
        return None  # a ForeignObject over other columns (or several): no column of its own to follow
    target_field = field.target_field
    direct = target_field.primary_key and root_model(concrete_of(target_field.model)) is root_model(model)
    return Reverse(
        model,
        concrete_of(related),
        names,
        "one-to-one" if rel.one_to_one else "foreign key",
        ("fk", related._meta.label, field.name),
        rel.on_delete in _CASCADES,
        _on_delete_name(rel.on_delete),
        field.attname if direct else field.name,
        None if direct else target_field.attname,
    )


def _generic(model: Model, relation: Any) -> Reverse:
    related = concrete_of(relation.related_model)
    gfk = next(
        (
            g.name
            for g in generic_fks(related)
            if (g.ct_field.name, g.fk_field.name) == (relation.content_type_field_name, relation.object_id_field_name)
        ),
        None,
    )
    names = tuple(
        dict.fromkeys(
            name
            for name in (relation.name, relation.remote_field.related_query_name, gfk and f"{related.__name__}.{gfk}")
            if name and "+" not in name
        )
    )
    return Reverse(
        model,
        related,
        names,
        "generic relation",
        ("generic", relation.model._meta.label, relation.name),
        True,  # a delete takes the rows of a generic relation
        "generic relation",
        relation.object_id_field_name,
        content_type=relation.content_type_field_name,
    )


@functools.cache
def reverse_relations(model: Model) -> tuple[Reverse, ...]:
    """The reverse relations of the concrete ``model`` (those of its multi-table parents too, as
    a delete sees them), by name."""
    from_fields: list[Reverse] = []
    generic_declared: set[tuple[Model, str, str]] = set()
    for field in model._meta.get_fields(include_hidden=True):
        if isinstance(field, ForeignObjectRel):
            found = _from_rel(model, field)
            if found is not None:
                from_fields.append(found)
        elif _is_generic_relation(field):
            found = _generic(model, field)
            generic_declared.add((found.related, found.content_type or "", found.lookup))
            from_fields.append(found)
    for related in _models_with_generic_fks():
        for gfk in generic_fks(related):
            if (related, gfk.ct_field.name, gfk.fk_field.name) in generic_declared:
                continue
            from_fields.append(
                Reverse(
                    model,
                    related,
                    (f"{related.__name__}.{gfk.name}",),
                    "generic foreign key",
                    ("gfk", model._meta.label, related._meta.label, gfk.name),
                    False,
                    "generic foreign key",
                    gfk.fk_field.name,
                    content_type=gfk.ct_field.name,
                )
            )
    unique = {relation.key: relation for relation in from_fields}
    return tuple(sorted(unique.values(), key=lambda relation: relation.name))


def _is_generic_relation(field: Any) -> bool:
    if not apps.is_installed("django.contrib.contenttypes"):
        return False
    from django.contrib.contenttypes.fields import GenericRelation

    return isinstance(field, GenericRelation)


@functools.cache
def _models_with_generic_fks() -> tuple[Model, ...]:
    """The concrete models that declare a generic foreign key themselves, by label."""
    if not apps.is_installed("django.contrib.contenttypes"):
        return ()
    from django.contrib.contenttypes.fields import GenericForeignKey

    found = [
        model
        for model in apps.get_models()
        if not model._meta.proxy
        and any(isinstance(private, GenericForeignKey) for private in model._meta.private_fields)
    ]
    return tuple(sorted(found, key=lambda model: model._meta.label))


def forward_relation(model: Model, name: str) -> bool:
    """``name`` is a field of ``model`` that points at other rows (always followed)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return field.is_relation and not isinstance(field, ForeignObjectRel) and not _is_generic_relation(field)
