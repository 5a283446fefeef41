"""Database rows → the objects to dump and what each one points at.

Reads the selected models with one ``values_list()`` query per model (and per chunk of
primary keys for objects found by following references), never one query per row. Objects
that the selection points at outside itself are added until the set is closed, so the
script is self-contained; content types and permissions (rows that migrations create) and,
with ``natural_foreign``, any model with natural keys are looked up instead.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db import models

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript._selection import lookup_models
from dumpscript._types import AnyField, AnyForeignKey, AnyManyToMany
from dumpscript.errors import SelectionError

CHUNK = 500


@dataclass(eq=False)
class DumpObject:
    """One row to create: the most derived selected model that covers it."""

    model: type[models.Model]
    pk: Any
    values: dict[str, Any]
    """Field attname → value read from the database, for every field the script writes."""
    outside: bool = False
    """Included only because a selected object points at it."""
    targets: dict[str, Target] = field(default_factory=dict)
    """Field name (FK, one-to-one or generic FK) → the object or lookup it points at."""
    var: str = ""
    """The script variable, set when the objects are ordered."""
    link: str = ""
    """For a second child of one parent row (a place that is a restaurant *and* a bar): the
    parent-link field that points at the object that creates the shared parent row."""

    @property
    def label(self) -> str:
        """``app.Model(pk=…)``, for messages."""
        return f"{self.model._meta.label}(pk={self.pk!r})"


@dataclass(frozen=True)
class Lookup:
    """A row found when the script runs: by natural key
    (``Model.objects.get_by_natural_key(...)``) or, with ``fields``, by unique fields
    (``Model.objects.get(email=...)``)."""

    model: type[models.Model]
    key: tuple[Any, ...]
    fields: tuple[str, ...] = ()


Target = DumpObject | Lookup


@dataclass
class M2MLinks:
    source: DumpObject
    field: AnyManyToMany
    targets: list[Target]


@dataclass(frozen=True)
class GenericFK:
    name: str
    ct_field: AnyForeignKey
    fk_field: AnyField
    nullable: bool


def concrete_of(model: type[models.Model]) -> type[models.Model]:
    concrete = model._meta.concrete_model
    assert concrete is not None
    return concrete


@functools.cache
def root_model(model: type[models.Model]) -> type[models.Model]:
    """The top concrete model of a multi-table inheritance chain (the model itself if none)."""
    for parent in model._meta.get_parent_list():
        if not parent._meta.parents:
            return parent
    return model


def _is_auto_pk(f: AnyField) -> bool:
    return f.primary_key and isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField)


def written_fields(model: type[models.Model], keep_pks: bool) -> list[AnyField]:
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


@functools.cache
def generic_fks(model: type[models.Model]) -> list[GenericFK]:
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


def _common_ancestor(a: type[models.Model], b: type[models.Model]) -> type[models.Model]:
    """The most derived model that both ``a`` and ``b`` inherit (multi-table) from."""
    shared = [m for m in [b, *b._meta.get_parent_list()] if m in a._meta.get_parent_list()]
    return max(shared, key=lambda m: len(m._meta.get_parent_list()))


def _attname(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.attname


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def selected_rows(
    model: type[models.Model],
    *,
    using: str,
    use_default_manager: bool,
    pks: list[Any] | None,
    filter: dict[str, Any] | None,
    limit: int | None,
) -> models.QuerySet[Any]:
    """The rows of a selected model, by primary key: the options' keys, filter and limit."""
    manager = model._default_manager if use_default_manager else model._base_manager
    queryset = manager.using(using).order_by("pk")
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    if filter:
        try:
            queryset = queryset.filter(**filter)
        except (FieldError, ValueError, TypeError, ValidationError) as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise SelectionError(f"Cannot filter {model._meta.label}: {message}") from None
    if limit is not None:
        queryset = queryset[:limit]
    return queryset


def auto_m2m_fields(selected: Iterable[type[models.Model]]) -> list[AnyManyToMany]:
    """The many-to-many fields of the selected models whose links are rows of an automatic
    through table (explicit through models are dumped as objects), in label order."""
    declared: dict[AnyManyToMany, None] = {}
    for model in sorted(set(selected), key=lambda m: m._meta.label):
        for m2m in model._meta.many_to_many:
            assert isinstance(m2m, models.ManyToManyField)
            through = m2m.remote_field.through
            assert through is not None
            if through._meta.auto_created:
                declared.setdefault(m2m)
    return list(declared)


class Graph:
    """The closed set of objects to dump, their references and their many-to-many links."""

    def __init__(
        self,
        models_: list[type[models.Model]],
        *,
        using: str,
        keep_pks: bool = False,
        natural_foreign: bool = False,
        use_default_manager: bool = False,
        pks: list[Any] | None = None,
        limit: int | None = None,
        filter: dict[str, Any] | None = None,
        lookups: dict[type[models.Model], tuple[str, ...]] | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.lookups_by_fields = lookups or {}
        self.using = using
        self.progress = progress
        self.keep_pks = keep_pks
        self.natural_foreign = natural_foreign
        self.selected = models_
        self.lookup_models = lookup_models()
        self.by_key: dict[tuple[str, Any], DumpObject] = {}
        self.extensions: dict[tuple[str, Any], list[DumpObject]] = defaultdict(list)
        self.dangling: set[tuple[str, Any]] = set()
        self._natural: dict[tuple[str, Any], Lookup] = {}
        self._value_index: dict[tuple[type[models.Model], str], dict[Any, list[DumpObject]]] = {}
        self._fields: dict[type[models.Model], list[AnyField]] = {}
        self.m2m: list[M2MLinks] = []
        self._pending: dict[type[models.Model], set[Any]] = defaultdict(set)
        self._lookup_pending: dict[type[models.Model], set[Any]] = defaultdict(set)
        self._by_value: dict[tuple[type[models.Model], str], set[Any]] = defaultdict(set)
        self._limit, self._filter = limit, filter
        self._collect(use_default_manager, pks)

    # -- reading rows ---------------------------------------------------------------------

    def fields(self, model: type[models.Model]) -> list[AnyField]:
        if model not in self._fields:
            self._fields[model] = written_fields(model, self.keep_pks)
        return self._fields[model]

    def _key(self, model: type[models.Model], pk: Any) -> tuple[str, Any]:
        return (root_model(model)._meta.label, pk)

    def _add_rows(self, model: type[models.Model], queryset: models.QuerySet[Any], outside: bool) -> set[Any]:
        fields = self.fields(model)
        names = [f.attname for f in fields]
        seen = set()
        label = model._meta.label
        for row in queryset.values_list("pk", *names).iterator(chunk_size=2000):
            self.progress.advance(label)
            pk = row[0]
            seen.add(pk)
            key = self._key(model, pk)
            values = dict(zip(names, row[1:], strict=True))
            existing = self.by_key.get(key)
            if existing is None:
                self.by_key[key] = DumpObject(model, pk, values, outside)
                continue
            for candidate in [existing, *self.extensions.get(key, [])]:
                if issubclass(candidate.model, model):
                    break  # covered by a more derived model
                if issubclass(model, candidate.model):
                    # A reference needs the child row (an FK to Restaurant at a row read as a Place).
                    candidate.model, candidate.values = model, values
                    break
            else:
                # Another child of the same parent row: created after, linked to the first.
                extension = DumpObject(model, pk, values, outside)
                link = model._meta.get_ancestor_link(_common_ancestor(model, existing.model))
                assert link is not None
                extension.link = link.name
                extension.targets[extension.link] = existing
                self.extensions[key].append(extension)
        return seen

    def _collect(self, use_default_manager: bool, pks: list[Any] | None) -> None:
        # Most derived models first: a child object covers its parent rows.
        ordered = sorted(self.selected, key=lambda m: (-len(m._meta.get_parent_list()), m._meta.label))
        for model in ordered:
            queryset = selected_rows(
                model,
                using=self.using,
                use_default_manager=use_default_manager,
                pks=pks,
                filter=self._filter,
                limit=self._limit,
            )
            self._add_rows(model, queryset, outside=False)
        self._collect_m2m()
        self._close()

    def _collect_m2m(self) -> None:
        for m2m in auto_m2m_fields(self.selected):
            through = m2m.remote_field.through
            assert through is not None
            source_attname = _attname(through, m2m.m2m_field_name())
            target_attname = _attname(through, m2m.m2m_reverse_field_name())
            target_model = m2m.related_model
            assert isinstance(target_model, type)
            rows = (
                through._base_manager.using(self.using)
                .order_by(source_attname, target_attname)
                .values_list(source_attname, target_attname)
            )
            grouped: dict[DumpObject, list[Any]] = defaultdict(list)
            for source_pk, target_pk in rows.iterator(chunk_size=5000):
                source = self._object_for(m2m.model, self._key(m2m.model, source_pk))
                if source is None or source.outside:
                    continue
                grouped[source].append(target_pk)
            for source, target_pks in grouped.items():
                links = M2MLinks(source, m2m, [])
                links.targets = target_pks  # resolved in _close()
                self.m2m.append(links)
            wanted = (pk for pks in grouped.values() for pk in pks)
            if self._is_lookup(target_model):
                self._lookup_pending[concrete_of(target_model)].update(wanted)
            else:
                self._want(target_model, wanted)

    # -- following references ---------------------------------------------------------------

    def _want(self, model: type[models.Model], pks: Iterable[Any]) -> None:
        concrete = concrete_of(model)
        for pk in pks:
            key = self._key(concrete, pk)
            if self._object_for(concrete, key) is not None:
                continue
            if key not in self.dangling and key not in self._natural:
                self._pending[concrete].add(pk)

    def _is_lookup(self, model: type[models.Model]) -> bool:
        concrete = concrete_of(model)
        if concrete in self.lookup_models:
            return True
        if concrete in self.lookups_by_fields and concrete not in self.selected:
            return True
        if not self.natural_foreign or concrete in self.selected:
            return False
        return hasattr(concrete, "natural_key") and hasattr(concrete._default_manager, "get_by_natural_key")

    def _close(self) -> None:
        """Add referenced objects until nothing points outside the set; resolve references."""
        scanned: set[tuple[int, type[models.Model]]] = set()
        while True:
            for obj in self.objects:
                if (id(obj), obj.model) not in scanned:
                    scanned.add((id(obj), obj.model))
                    self._scan(obj)
            if not self._pending and not self._by_value:
                break
            self._fetch_pending()
        self._fetch_lookups()
        for obj in self.objects:
            self._resolve(obj)
        for links in self.m2m:
            model = links.field.related_model
            links.targets = [t for t in (self._target(model, pk) for pk in links.targets) if t is not None]

    def _references(self, obj: DumpObject) -> Iterator[tuple[str, type[models.Model], Any, str | None]]:
        """``(name, target model, value, attname)`` for every non-null reference of ``obj``;
        ``attname`` is None when the value is the target's primary key."""
        for f in self.fields(obj.model):
            if not f.is_relation or f.remote_field is None:
                continue
            value = obj.values[f.attname]
            if value is not None:
                target_model = f.related_model
                assert isinstance(target_model, type)
                target_field = f.target_field  # type: ignore[attr-defined]
                yield f.name, target_model, value, None if target_field.primary_key else target_field.attname
        for gfk in generic_fks(obj.model):
            found = self._generic_model(obj, gfk)
            if found is not None:
                yield gfk.name, found[0], found[1], None

    def _scan(self, obj: DumpObject) -> None:
        for _, target_model, value, attname in self._references(obj):
            if self._is_lookup(target_model):
                self._lookup_pending[concrete_of(target_model)].add(
                    value if attname is None else ("value", attname, value)
                )
            elif attname is None:
                self._want(target_model, [value])
            else:
                self._by_value[(target_model, attname)].add(value)

    def _generic_model(self, obj: DumpObject, gfk: GenericFK) -> tuple[type[models.Model], Any] | None:
        from django.contrib.contenttypes.models import ContentType

        ct_id = obj.values[gfk.ct_field.attname]
        object_id = obj.values[gfk.fk_field.attname]
        if ct_id is None or object_id is None:
            return None
        try:
            model = ContentType.objects.db_manager(self.using).get_for_id(ct_id).model_class()
        except ContentType.DoesNotExist:
            return None
        if model is None:
            return None
        try:
            pk = model._meta.pk.to_python(object_id)  # type: ignore[union-attr]
        except ValidationError:
            return None
        return model, pk

    def _fetch_pending(self) -> None:
        by_value, self._by_value = self._by_value, defaultdict(set)
        for (model, attname), values in sorted(by_value.items(), key=lambda item: item[0][0]._meta.label):
            for chunk in _chunks(sorted(values, key=_sort_key)):
                rows = model._base_manager.using(self.using).filter(**{f"{attname}__in": chunk}).values_list("pk")
                self._want(model, (pk for (pk,) in rows))
        pending, self._pending = self._pending, defaultdict(set)
        for model, pks in sorted(pending.items(), key=lambda item: item[0]._meta.label):
            for chunk in _chunks(sorted(pks, key=_sort_key)):
                queryset = model._base_manager.using(self.using).filter(pk__in=chunk).order_by("pk")
                found = self._add_rows(model, queryset, outside=True)
                for pk in chunk:
                    if pk not in found:
                        self.dangling.add(self._key(model, pk))

    def _fetch_lookups(self) -> None:
        for model, wanted in sorted(self._lookup_pending.items(), key=lambda item: item[0]._meta.label):
            pks = {value for value in wanted if not isinstance(value, tuple)}
            by_value: dict[str, set[Any]] = defaultdict(set)
            for value in wanted:
                if isinstance(value, tuple):
                    by_value[value[1]].add(value[2])
            related = [f.name for f in model._meta.concrete_fields if f.is_relation]
            manager = model._base_manager.using(self.using)
            if related:  # natural keys often follow foreign keys (Permission → ContentType)
                manager = manager.select_related(*related)
            for chunk in _chunks(sorted(pks, key=_sort_key)):
                for instance in manager.filter(pk__in=chunk):
                    self._natural[self._key(model, instance.pk)] = self._lookup(model, instance)
            for attname, values in by_value.items():
                for chunk in _chunks(sorted(values, key=_sort_key)):
                    for instance in manager.filter(**{f"{attname}__in": chunk}):
                        lookup = self._lookup(model, instance)
                        self._natural[self._key(model, ("value", attname, getattr(instance, attname)))] = lookup

    def _lookup(self, model: type[models.Model], instance: models.Model) -> Lookup:
        fields = self.lookups_by_fields.get(model) if model not in self.lookup_models else None
        if fields:
            return Lookup(model, tuple(getattr(instance, name) for name in fields), fields)
        return Lookup(model, tuple(instance.natural_key()))  # type: ignore[attr-defined]

    def _target(self, model: type[models.Model], value: Any, attname: str | None = None) -> Target | None:
        key = self._key(model, value if attname is None else ("value", attname, value))
        if key in self._natural:
            return self._natural[key]
        if attname is not None:
            for obj in self._objects_by_value(model, attname).get(value, []):
                return obj
            return None
        return self._object_for(concrete_of(model), key)

    def _object_for(self, model: type[models.Model], key: tuple[str, Any]) -> DumpObject | None:
        """The object of ``key`` that is a ``model`` (the first child, or a second one)."""
        primary = self.by_key.get(key)
        if primary is None or issubclass(primary.model, model):
            return primary
        for extension in self.extensions.get(key, []):
            if issubclass(extension.model, model):
                return extension
        return None

    def _objects_by_value(self, model: type[models.Model], attname: str) -> dict[Any, list[DumpObject]]:
        cache = self._value_index
        index_key = (model, attname)
        if index_key not in cache:
            root = root_model(model)._meta.label
            index: dict[Any, list[DumpObject]] = defaultdict(list)
            rows = model._base_manager.using(self.using).values_list(attname, "pk")
            for value, pk in rows.iterator(chunk_size=5000):
                obj = self._object_for(model, (root, pk))
                if obj is not None:
                    index[value].append(obj)
            cache[index_key] = index
        return cache[index_key]

    def _resolve(self, obj: DumpObject) -> None:
        for name, target_model, value, attname in self._references(obj):
            target = self._target(target_model, value, attname)
            if target is not None:
                obj.targets[name] = target

    @property
    def objects(self) -> list[DumpObject]:
        extensions = [obj for objs in self.extensions.values() for obj in objs]
        return [*self.by_key.values(), *extensions]
