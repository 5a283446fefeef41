"""Dumping in flat memory: the objects as compact arrays, their rows read again while writing.

:class:`~dumpscript.graph.Graph` holds a Python object with every value of every row, which
costs kilobytes a row. Here a dump keeps, per model, only the sorted primary keys of its
objects (an ``array`` of 8 bytes a key for integer keys) and two bytes per object (referenced
or not, inside the selection or not); models whose objects reference each other (trees,
cycles) also keep a level and a position per object, and the links that close cycles. The
script is then written a batch at a time: each batch's rows are read again (one query per
batch), turned into short-lived :class:`~dumpscript.graph.DumpObject` instances and written
by the same :class:`~dumpscript.cst.ScriptBuilder` code as the in-memory path, so both give
the same text byte for byte (the tests compare them).

Every option takes this path: natural-key and field lookups, ``save_each``, rows that are
second children of one parent row, generic relations inside cycles of models; a cycle of NOT NULL
references is a :class:`~dumpscript.errors.CycleError` that names its objects and fields.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import heapq
import itertools
import json
import os
import signal
import sys
import tempfile
import threading
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, overload

from django.core.exceptions import ValidationError
from django.db import connections, models, transaction

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript._selection import lookup_models
from dumpscript._types import AnyField, AnyManyToMany
from dumpscript.cst import ScriptBuilder
from dumpscript.cst._format import INDENT
from dumpscript.cst._render import render_expression, render_statement
from dumpscript.cst._script import (
    _ALWAYS,
    BATCH,
    Piece,
    _call_text,
    _element_text,
    _exploded_list_call_text,
    _is_default,
    _lead_text,
    _list_call_text,
)
from dumpscript.errors import CycleError, DumpscriptError
from dumpscript.graph import (
    DumpObject,
    Lookup,
    Target,
    _attname,
    _common_ancestor,
    _sort_key,
    auto_m2m_fields,
    concrete_of,
    generic_fks,
    root_model,
    selected_rows,
    written_fields,
)
from dumpscript.naming import _highest, model_stem, snake
from dumpscript.ordering import Edge, Group, Section, strongly_connected
from dumpscript.values import encode_python
from dumpscript.values._text import field_value_text

Model = type[models.Model]
Keys = Any  # array("q") of integer primary keys, or a sorted list of other keys
RANGE_ROWS = 2000
"""Rows per query when a chunk's integer keys are dense (read by a key range)."""


def _keys(values: Iterable[Any]) -> Keys:
    """Sorted unique keys, as an ``array("q")`` when they are all integers."""
    ordered = sorted(set(values), key=lambda value: (type(value).__name__, value))
    try:
        return array("q", ordered)
    except (TypeError, OverflowError):
        return ordered


class _Collector:
    """Keys as they come from the database, in 8 bytes each while they are ascending integers
    (``order_by("pk")`` gives them so); sorted afterwards otherwise."""

    def __init__(self) -> None:
        self.sorted: array[int] | None = array("q")
        self.other: list[Any] = []

    def extend(self, values: list[Any]) -> None:
        if self.sorted is not None:
            previous = self.sorted[-1] if self.sorted else None
            ascending = True
            for value in values:
                if type(value) is not int or (previous is not None and value <= previous):
                    ascending = False
                    break
                previous = value
            if ascending:
                try:
                    self.sorted.extend(values)
                    return
                except OverflowError:
                    pass
            self.other, self.sorted = list(self.sorted), None
        self.other.extend(values)

    def keys(self) -> Keys:
        return self.sorted if self.sorted is not None else _keys(self.other)


def _find(keys: Keys, value: Any) -> int:
    try:
        position = bisect.bisect_left(keys, value)
    except TypeError:
        return -1
    if position < len(keys) and keys[position] == value and type(keys[position]) is type(value):
        return position
    return -1


class Objects:
    """The objects of one model: sorted primary keys and a few bytes each."""

    __slots__ = (
        "base",
        "keys",
        "level",
        "model",
        "named",
        "order",
        "outside",
        "pos",
        "provisional",
        "reused",
        "skipped",
        "stem",
        "unscanned",
    )

    def __init__(self, model: Model) -> None:
        self.model = model
        self.keys: Keys = array("q")
        self.named = bytearray()
        self.outside = bytearray()
        self.unscanned: list[Keys] = []
        """Sorted keys added since the last scan of references, a sequence per addition."""
        self.pos: array[int] | None = None
        """Creation position by key rank, for models ordered object by object (else the rank)."""
        self.order: array[int] | None = None
        """Key rank by creation position (the inverse of ``pos``)."""
        self.level: array[int] | None = None
        self.stem = ""
        self.base = 0
        """Variables are numbered from ``base + 1`` (an insertion continues a script's numbering)."""
        self.reused: dict[int, str] = {}
        """Key rank → the variable of an object that the script being edited creates already."""
        self.skipped: list[int] = []
        """The sorted creation positions of the reused objects (they take no number)."""
        self.provisional = False
        """Names are not given yet: objects that are not reused have an empty name."""

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, keys: Keys, outside: bool, named: bool) -> None:
        """Merge sorted ``keys`` (none of them present) into the objects."""
        if not len(keys):
            return
        flag, mark = int(outside), int(named)
        if not len(self.keys):
            merged: Keys = keys
            self.named = bytearray([mark]) * len(keys)
            self.outside = bytearray([flag]) * len(keys)
        else:
            rows = heapq.merge(
                zip(self.keys, self.named, self.outside, strict=True),
                ((key, mark, flag) for key in keys),
                key=lambda row: (type(row[0]).__name__, row[0]),
            )
            new_keys, new_named, new_outside = zip(*rows, strict=True)
            merged = _keys(new_keys)
            self.named, self.outside = bytearray(new_named), bytearray(new_outside)
        self.keys = merged
        self.unscanned.append(keys)

    def find(self, key: Any) -> int:
        return _find(self.keys, key)

    def remove(self, keys: set[Any]) -> None:
        kept = [rank for rank, key in enumerate(self.keys) if key not in keys]
        self.keys = _keys([self.keys[rank] for rank in kept])
        self.named = bytearray(self.named[rank] for rank in kept)
        self.outside = bytearray(self.outside[rank] for rank in kept)
        self.unscanned = [[key for key in chunk if key not in keys] for chunk in self.unscanned]

    def creation_keys(self, start: int, stop: int) -> list[Any]:
        """The keys of the objects at creation positions ``start`` to ``stop``."""
        if self.order is None:
            return list(self.keys[start:stop])
        return [self.keys[rank] for rank in self.order[start:stop]]

    def position(self, rank: int) -> int:
        """The creation position (among this model's objects) of the object of key rank ``rank``."""
        return rank if self.pos is None else self.pos[rank]

    def rank(self, position: int) -> int:
        return position if self.order is None else self.order[position]

    def var(self, rank: int) -> str:
        """The variable of the object of key rank ``rank``: ``stem_N``, numbered per model in
        creation order."""
        if self.reused:
            name = self.reused.get(rank)
            if name:
                return name
        if self.provisional:
            return ""
        position = self.position(rank)
        if self.skipped:
            position -= bisect.bisect_left(self.skipped, position)
        return f"{self.stem}_{self.base + position + 1}"

    def reuse(self, rank: int, var: str) -> None:
        """The object exists already as ``var`` (or, with an empty ``var``, as an element of a
        list that gets the object's numbered name)."""
        self.reused[rank] = var
        if var:
            bisect.insort(self.skipped, self.position(rank))


class StreamGraph:
    """The objects to dump as :class:`Objects` per model; the same set as :class:`Graph`."""

    def __init__(
        self,
        models_: list[Model],
        *,
        using: str,
        keep_pks: bool = False,
        natural_foreign: bool = False,
        lookups: dict[Model, tuple[str, ...]] | None = None,
        use_default_manager: bool = False,
        pks: list[Any] | None = None,
        limit: int | None = None,
        filter: dict[str, Any] | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.using = using
        self.keep_pks = keep_pks
        self.natural_foreign = natural_foreign
        self.lookups = lookups or {}
        self.progress = progress
        self.selected = models_
        self.lookup_models = lookup_models()
        self.by_model: dict[Model, Objects] = {}
        self.families: dict[Model, list[Objects]] = defaultdict(list)
        self._fields: dict[Model, list[AnyField]] = {}
        self.model_succ: dict[Model, set[Model]] = defaultdict(set)
        self.dangling: set[tuple[Model, Any]] = set()
        self.natural: dict[tuple[Model, Any], Lookup] = {}
        self._lookup_pending: dict[Model, set[Any]] = defaultdict(set)
        self._wanted: dict[Model, dict[Any, set[Model]]] = defaultdict(dict)
        self.m2m: list[tuple[AnyManyToMany, Model, Keys, Keys]] = []
        """``(field, target objects, source keys, target keys)`` of the links to write."""
        self._ct_cache: dict[int, Model | None] = {}
        self._by_value: dict[tuple[Model, str], dict[Any, Any]] = {}
        """``(model, field attname) → {value: primary key or None}`` for references by a field."""
        self._value_pending: dict[tuple[Model, str], dict[Any, set[Model]]] = defaultdict(dict)
        self.max_params = min(connections[using].features.max_query_params or 999, 999) - 10
        self._read_selected(use_default_manager, pks, limit, filter)
        self._collect_m2m()
        self._close()

    # -- objects ---------------------------------------------------------------------------

    def fields(self, model: Model) -> list[AnyField]:
        if model not in self._fields:
            self._fields[model] = written_fields(model, self.keep_pks)
        return self._fields[model]

    def objects_of(self, model: Model) -> Objects:
        if model not in self.by_model:
            objects = Objects(model)
            self.by_model[model] = objects
            self.families[root_model(model)].append(objects)
        return self.by_model[model]

    def find(self, model: Model, key: Any) -> tuple[Objects, int] | None:
        """The object with primary key ``key`` that is a ``model`` (a concrete model): the first
        child that covers the row, or a second one."""
        for objects in self.families.get(root_model(model), ()):
            rank = objects.find(key)
            if rank >= 0 and issubclass(objects.model, model):
                return objects, rank
        return None

    def primary(self, objects: Objects, key: Any) -> tuple[Objects, int] | None:
        """For a second child of one parent row (a place that is a restaurant *and* a bar):
        the object that creates the shared row, read before it."""
        for other in self.families[root_model(objects.model)]:
            if other is objects:
                return None
            rank = other.find(key)
            if rank >= 0:
                return other, rank
        return None

    def _read_selected(
        self, use_default_manager: bool, pks: list[Any] | None, limit: int | None, filter: dict[str, Any] | None
    ) -> None:
        # Most derived models first: a child object covers its parent rows.
        ordered = sorted(self.selected, key=lambda m: (-len(m._meta.get_parent_list()), m._meta.label))
        for model in ordered:
            queryset = selected_rows(
                model, using=self.using, use_default_manager=use_default_manager, pks=pks, filter=filter, limit=limit
            )
            family = list(self.families.get(root_model(model), ()))
            label = model._meta.label
            found = _Collector()
            chunk: list[Any] = []
            for pk in queryset.values_list("pk", flat=True).iterator(chunk_size=2000):
                chunk.append(pk)
                if len(chunk) == 2000:
                    found.extend(self._uncovered(model, family, chunk))
                    self.progress.advance(label, len(chunk))
                    chunk = []
            found.extend(self._uncovered(model, family, chunk))
            self.progress.advance(label, len(chunk))
            keys = found.keys()
            if len(keys):
                self.objects_of(model).add(keys, outside=False, named=False)

    @staticmethod
    def _uncovered(model: Model, family: list[Objects], chunk: list[Any]) -> list[Any]:
        """The keys of ``chunk`` that no object of a more derived model covers (models are read
        most derived first); a key that a sibling model has already (a second child of one
        parent row) is kept: :meth:`_link_second_children` links it."""
        if not family:
            return chunk
        return [pk for pk in chunk if not any(issubclass(o.model, model) and o.find(pk) >= 0 for o in family)]

    def _link_second_children(self) -> None:
        """A parent row that objects of two models share (a place that is a restaurant *and* a
        bar) is created by the first of them in the family; the others come after it and link
        to it (:meth:`primary`)."""
        for family in self.families.values():
            for number, objects in enumerate(family[1:], 1):
                for key in objects.keys:
                    for earlier in family[:number]:
                        rank = earlier.find(key)
                        if rank >= 0:
                            earlier.named[rank] = 1
                            self.model_succ[objects.model].add(earlier.model)
                            break

    # -- reading rows by key ----------------------------------------------------------------

    def rows(self, model: Model, keys: Sequence[Any], columns: list[str]) -> Iterator[tuple[Any, ...]]:
        """``(pk, *columns)`` of the rows with ``keys`` (sorted), in that order; one query per
        chunk: a key range when the keys are dense integers, else ``pk__in``."""
        manager = model._base_manager.using(self.using)
        start, count = 0, len(keys)
        while start < count:
            first = keys[start]
            stop = min(start + RANGE_ROWS, count)
            last = keys[stop - 1]
            if type(first) is int and type(last) is int and last - first < 2 * (stop - start):
                rows = manager.filter(pk__gte=first, pk__lte=last).order_by("pk").values_list("pk", *columns)
                wanted = set(keys[start:stop]) if last - first + 1 != stop - start else None
                for row in rows.iterator(chunk_size=RANGE_ROWS):
                    if wanted is None or row[0] in wanted:
                        yield row
            else:
                stop = min(start + self.max_params, count)
                chunk = list(keys[start:stop])
                found = {row[0]: row for row in manager.filter(pk__in=chunk).values_list("pk", *columns)}
                for key in chunk:
                    row = found.get(key)
                    if row is not None:
                        yield row
            start = stop

    # -- references ------------------------------------------------------------------------

    def references(self, model: Model) -> tuple[list[str], list[Any]]:
        """The columns to read for ``model``'s references, and how to turn them into targets:
        ``("fk", name, target model, column)`` or ``("gfk", name, ct column, id column)``."""
        columns: list[str] = []
        plan: list[Any] = []
        gfks = generic_fks(model)
        for f in self.fields(model):
            if not f.is_relation or f.remote_field is None:
                continue
            target_field = f.target_field  # type: ignore[attr-defined]
            target_model = f.related_model
            assert isinstance(target_model, type)
            columns.append(f.attname)
            if target_field.primary_key:
                plan.append(("fk", f.name, concrete_of(target_model), len(columns)))
            else:  # a foreign key to another unique field (to_field="email")
                plan.append((target_field.attname, f.name, concrete_of(target_model), len(columns)))
        for gfk in gfks:
            for attname in (gfk.ct_field.attname, gfk.fk_field.attname):
                if attname not in columns:
                    columns.append(attname)
            plan.append(
                ("gfk", gfk.name, columns.index(gfk.ct_field.attname) + 1, columns.index(gfk.fk_field.attname) + 1)
            )
        return columns, plan

    def _ct_model(self, ct_id: Any) -> Model | None:
        if ct_id not in self._ct_cache:
            from django.contrib.contenttypes.models import ContentType

            try:
                model = ContentType.objects.db_manager(self.using).get_for_id(ct_id).model_class()
            except ContentType.DoesNotExist:
                model = None
            self._ct_cache[ct_id] = model
        return self._ct_cache[ct_id]

    def targets_of(
        self, row: tuple[Any, ...], plan: list[Any], source: Model | None = None
    ) -> Iterator[tuple[str, Model, Any]]:
        """``(name, concrete target model, key)`` for every non-null reference in ``row``; with
        ``source``, references by another field whose key is not known yet are noted."""
        for kind, name, a, b in plan:
            if kind == "fk":
                value = row[b]
                if value is not None:
                    yield name, a, value
                continue
            if kind != "gfk":  # by the target field ``kind``
                value = row[b]
                if value is None:
                    continue
                if self.is_lookup(a):
                    yield name, a, ("value", kind, value)
                    continue
                by_value = self._by_value.setdefault((a, kind), {})
                if value in by_value:
                    if by_value[value] is not None:
                        yield name, a, by_value[value]
                elif source is not None:
                    self._value_pending[(a, kind)].setdefault(value, set()).add(source)
                continue
            ct_id, object_id = row[a], row[b]
            if ct_id is None or object_id is None:
                continue
            model = self._ct_model(ct_id)
            if model is None:
                continue
            try:
                pk = model._meta.pk.to_python(object_id)  # type: ignore[union-attr]
            except ValidationError:
                continue
            yield name, concrete_of(model), pk

    def is_lookup(self, model: Model) -> bool:
        """Rows of ``model`` are found when the script runs (by natural key or by the fields the
        options name), not created: content types and permissions, models outside the selection
        with ``natural_foreign``, and models (or their multi-table children) with ``lookups``."""
        if model in self.lookup_models:
            return True
        if model in self.selected:
            return False
        if self.lookup_fields(model):
            return True
        return (
            self.natural_foreign
            and hasattr(model, "natural_key")
            and hasattr(model._default_manager, "get_by_natural_key")
        )

    def lookup_fields(self, model: Model) -> tuple[str, ...]:
        """The fields that find a row of ``model`` (or of a parent model) given by ``lookups``."""
        if model in self.lookup_models:
            return ()
        for klass in [model, *model._meta.get_parent_list()]:
            if klass in self.lookups:
                return self.lookups[klass]
        return ()

    def _reference(self, source: Model | None, model: Model, key: Any) -> None:
        if self.is_lookup(model):
            self._lookup_pending[model].add(key)
            return
        found = self.find(model, key)
        if found is not None:
            objects, rank = found
            objects.named[rank] = 1
            if source is not None:
                self.model_succ[source].add(objects.model)
        elif (model, key) not in self.dangling:
            sources = self._wanted[model].setdefault(key, set())
            if source is not None:
                sources.add(source)

    def _scan(self, objects: Objects) -> None:
        chunks, objects.unscanned = objects.unscanned, []
        columns, plan = self.references(objects.model)
        if not plan:
            return
        for keys in chunks:
            for row in self.rows(objects.model, keys, columns):
                for _, model, key in self.targets_of(row, plan, objects.model):
                    self._reference(objects.model, model, key)

    def _collect_m2m(self) -> None:
        for m2m in auto_m2m_fields(self.selected):
            through = m2m.remote_field.through
            assert through is not None
            source_attname = _attname(through, m2m.m2m_field_name())
            target_attname = _attname(through, m2m.m2m_reverse_field_name())
            target_model = m2m.related_model
            assert isinstance(target_model, type)
            target = concrete_of(target_model)
            rows = (
                through._base_manager.using(self.using)
                .order_by(source_attname, target_attname)
                .values_list(source_attname, target_attname)
            )
            sources: list[Any] = []
            targets: list[Any] = []
            source_model = concrete_of(m2m.model)
            for source_pk, target_pk in rows.iterator(chunk_size=5000):
                found = self.find(source_model, source_pk)
                if found is None or found[0].outside[found[1]]:
                    continue
                found[0].named[found[1]] = 1
                sources.append(source_pk)
                targets.append(target_pk)
                self._reference(None, target, target_pk)
            if sources:
                self.m2m.append((m2m, target, _array(sources), _array(targets)))

    def _close(self) -> None:
        """Add the rows that objects point at until nothing points outside; look up the rest."""
        while True:
            for objects in list(self.by_model.values()):
                if objects.unscanned:
                    self._scan(objects)
            pending, self._value_pending = self._value_pending, defaultdict(dict)
            for (model, attname), by_source in sorted(pending.items(), key=lambda item: item[0][0]._meta.label):
                values = sorted(by_source, key=lambda value: (type(value).__name__, value))
                known = self._by_value.setdefault((model, attname), {})
                for start in range(0, len(values), self.max_params):
                    chunk = values[start : start + self.max_params]
                    rows = model._base_manager.using(self.using).filter(**{f"{attname}__in": chunk})
                    for value, pk in rows.values_list(attname, "pk"):
                        known.setdefault(value, pk)
                for value, sources in by_source.items():
                    pk = known.setdefault(value, None)
                    if pk is not None:
                        for source in sources:
                            self._reference(source, model, pk)
            if not self._wanted:
                break
            wanted, self._wanted = self._wanted, defaultdict(dict)
            # Most derived models first: a child object covers its parent rows.
            for model, by_key in sorted(
                wanted.items(), key=lambda item: (-len(item[0]._meta.get_parent_list()), item[0]._meta.label)
            ):
                keys = sorted(by_key, key=lambda value: (type(value).__name__, value))
                found: list[Any] = []
                for start in range(0, len(keys), self.max_params):
                    chunk = keys[start : start + self.max_params]
                    rows = model._base_manager.using(self.using).filter(pk__in=chunk).values_list("pk", flat=True)
                    found += rows
                self.progress.advance(model._meta.label, len(found))
                present = set(found)
                new = [key for key in found if self.find(model, key) is None]
                family = list(self.families.get(root_model(model), []))
                upgrades: dict[int, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
                plain = []
                for key in new:
                    holders = [index for index, objects in enumerate(family) if objects.find(key) >= 0]
                    if not holders:
                        plain.append(key)
                    elif len(holders) == 1 and issubclass(model, family[holders[0]].model):
                        # A reference needs the child row (an FK to Restaurant at a row read as a Place).
                        holder = family[holders[0]]
                        upgrades[holders[0]][holder.outside[holder.find(key)]].append(key)
                    else:
                        ancestors = [index for index in holders if issubclass(model, family[index].model)]
                        if len(ancestors) > 1:
                            raise DumpscriptError(
                                f"Cannot dump {model._meta.label}(pk={key!r}): its parent row is held by objects "
                                f"of {', '.join(family[index].model._meta.label for index in ancestors)}"
                            )
                        if ancestors:  # the child row of a row read as a parent, beside a sibling
                            holder = family[ancestors[0]]
                            upgrades[ancestors[0]][holder.outside[holder.find(key)]].append(key)
                        else:  # another child of a parent row that a sibling object creates
                            plain.append(key)
                if plain:
                    self.objects_of(model).add(_keys(plain), outside=True, named=True)
                for index, by_flag in upgrades.items():
                    family[index].remove({key for keys in by_flag.values() for key in keys})
                    for flag, keys in by_flag.items():
                        self.objects_of(model).add(_keys(keys), outside=bool(flag), named=True)
                for key in keys:
                    if key not in present:
                        self.dangling.add((model, key))
                        continue
                    target = self.find(model, key)
                    assert target is not None
                    target[0].named[target[1]] = 1
                    for source in by_key[key]:
                        self.model_succ[source].add(target[0].model)
        self._link_second_children()
        self._fetch_lookups()

    def _fetch_lookups(self) -> None:
        for model, wanted in sorted(self._lookup_pending.items(), key=lambda item: item[0]._meta.label):
            related = [f.name for f in model._meta.concrete_fields if f.is_relation]
            manager = model._base_manager.using(self.using)
            if related:  # natural keys often follow foreign keys (Permission → ContentType)
                manager = manager.select_related(*related)
            by_value: dict[str, set[Any]] = defaultdict(set)
            pks = []
            for key in wanted:
                if isinstance(key, tuple) and len(key) == 3 and key[0] == "value":
                    by_value[key[1]].add(key[2])
                else:
                    pks.append(key)
            for attname, values in [("pk", pks), *sorted(by_value.items())]:
                keys = sorted(values, key=_sort_key)
                for start in range(0, len(keys), self.max_params):
                    chunk = keys[start : start + self.max_params]
                    for instance in manager.filter(**{f"{attname}__in": chunk}):
                        lookup = self._lookup(model, instance)
                        key = instance.pk if attname == "pk" else ("value", attname, getattr(instance, attname))
                        self.natural[(model, key)] = lookup

    def _lookup(self, model: Model, instance: models.Model) -> Lookup:
        fields = self.lookup_fields(model)
        if fields:
            return Lookup(model, tuple(getattr(instance, name) for name in fields), fields)
        return Lookup(model, tuple(instance.natural_key()))  # type: ignore[attr-defined]

    # -- order -----------------------------------------------------------------------------

    def order(self) -> list[tuple[list[tuple[Model, int, int]], list[DeferredLink]]]:
        """The sections in creation order: their groups ``(model, first position, last
        position + 1)`` and their deferred links; sets each model's stem and, for models
        ordered object by object, its positions."""

        def label(model: Model) -> str:
            return model._meta.label

        present = sorted((m for m, objects in self.by_model.items() if len(objects)), key=label)
        sections: list[tuple[list[tuple[Model, int, int]], list[DeferredLink]]] = []
        for component in strongly_connected(present, lambda m: sorted(self.model_succ[m], key=label)):
            component.sort(key=label)
            cyclic = len(component) > 1 or component[0] in self.model_succ[component[0]]
            if not cyclic:
                sections.append(([(component[0], 0, len(self.by_model[component[0]]))], []))
            else:
                sections.append(self._order_objects(component))
        used_by: dict[str, Model] = {}
        for groups, _ in sections:
            for model, _, _ in groups:
                objects = self.by_model[model]
                if not objects.stem:
                    stem = model_stem(model)
                    if used_by.setdefault(stem, model) is not model:
                        stem = f"{snake(model._meta.app_label)}_{stem}"
                    objects.stem = stem
        return sections

    def _order_objects(self, component: list[Model]) -> tuple[list[tuple[Model, int, int]], list[DeferredLink]]:
        """Levels of the objects of models that reference each other: an object comes after
        every object it points at; inside a cycle of objects, nullable references are set
        afterwards (as :func:`dumpscript.ordering.order` does)."""
        offsets: dict[Model, int] = {}
        total = 0
        for model in component:
            offsets[model] = total
            total += len(self.by_model[model])
        inside = set(component)
        starts = array("q", [0])
        deps = array("q")
        dep_fields = array("q")
        field_ids: dict[tuple[Model, str], int] = {}
        fields_info: list[tuple[str, bool]] = []

        def field_id(model: Model, name: str) -> int:
            if (model, name) not in field_ids:
                field_ids[(model, name)] = len(fields_info)
                fields_info.append((name, _nullable(model, name)))
            return field_ids[(model, name)]

        for model in component:
            objects = self.by_model[model]
            columns, plan = self.references(model)
            rows = self.rows(model, objects.keys, columns) if plan else iter(())
            row = next(rows, None)
            family = len(self.families[root_model(model)]) > 1
            for key in objects.keys:
                primary = self.primary(objects, key) if family else None
                if primary is not None and primary[0].model in inside:
                    link = model._meta.get_ancestor_link(_common_ancestor(model, primary[0].model))
                    assert link is not None
                    deps.append(offsets[primary[0].model] + primary[1])
                    dep_fields.append(field_id(model, link.name))
                if row is not None and row[0] == key:
                    for name, target_model, target_key in self.targets_of(row, plan):
                        found = None if self.is_lookup(target_model) else self.find(target_model, target_key)
                        if found is not None and found[0].model in inside:
                            deps.append(offsets[found[0].model] + found[1])
                            dep_fields.append(field_id(model, name))
                    row = next(rows, None)
                starts.append(len(deps))
        deferred: list[tuple[int, int, int]] = []  # (source, field id, target) in component numbering
        try:
            level = _levels(total, starts, deps)
        except _Cycle:
            starts, deps, dep_fields, deferred = _defer(total, starts, deps, dep_fields, fields_info)
            try:
                level = _levels(total, starts, deps)
            except _Cycle:  # every reference left in a cycle is NOT NULL
                raise CycleError(
                    self._cycle_message(component, offsets, starts, deps, dep_fields, fields_info)
                ) from None
        groups: list[tuple[Model, int, int]] = []
        top = max(level, default=-1)
        per_level: dict[Model, list[int]] = {}
        for model in component:
            objects = self.by_model[model]
            base = offsets[model]
            counts = [0] * (top + 1)
            for rank in range(len(objects)):
                counts[level[base + rank]] += 1
            firsts, position = [], 0
            for count in counts:
                firsts.append(position)
                position += count
            per_level[model] = counts
            pos = array("q", bytes(8 * len(objects)))
            order = array("q", bytes(8 * len(objects)))
            cursor = list(firsts)
            model_levels = array("q", level[base : base + len(objects)])
            for rank, depth in enumerate(model_levels):
                pos[rank] = cursor[depth]
                order[cursor[depth]] = rank
                cursor[depth] += 1
            objects.pos, objects.order, objects.level = pos, order, model_levels
        starts_by_model = dict.fromkeys(component, 0)
        section_start: dict[tuple[Model, int], int] = {}
        position = 0
        for depth in range(top + 1):
            for model in component:
                count = per_level[model][depth]
                if count:
                    start = starts_by_model[model]
                    groups.append((model, start, start + count))
                    section_start[(model, depth)] = position - start
                    starts_by_model[model] = start + count
                    position += count
        links: list[DeferredLink] = []
        if deferred:
            bounds = [offsets[model] for model in component]

            def locate(number: int) -> tuple[Objects, int]:
                model = component[bisect.bisect_right(bounds, number) - 1]
                return self.by_model[model], number - offsets[model]

            for source, field, target in deferred:
                source_objects, source_rank = locate(source)
                target_objects, target_rank = locate(target)
                assert source_objects.pos is not None and source_objects.level is not None
                at = section_start[(source_objects.model, source_objects.level[source_rank])]
                source_objects.named[source_rank] = 1
                links.append(
                    DeferredLink(
                        at + source_objects.pos[source_rank],
                        fields_info[field][0],
                        source_objects,
                        source_rank,
                        target_objects,
                        target_rank,
                    )
                )
            links.sort(key=lambda link: (link.position, link.name))
        return groups, links

    def _cycle_message(
        self,
        component: list[Model],
        offsets: dict[Model, int],
        starts: array[int],
        deps: array[int],
        dep_fields: array[int],
        fields_info: list[tuple[str, bool]],
    ) -> str:
        """The error for objects that reference each other only through NOT NULL fields: the
        cycle from its first object (by model label and key), each step by its first field."""
        total = len(starts) - 1
        component_of, cyclic = _components(total, starts, deps)
        start = next(node for node in range(total) if cyclic[component_of[node]])
        bounds = [offsets[model] for model in component]

        def label(node: int) -> str:
            model = component[bisect.bisect_right(bounds, node) - 1]
            key = self.by_model[model].keys[node - offsets[model]]
            return f"{model._meta.label}(pk={key!r})"

        path: list[tuple[int, int]] = []
        seen: dict[int, int] = {}
        node = start
        while node not in seen:
            seen[node] = len(path)
            edge = next(
                e for e in range(starts[node], starts[node + 1]) if component_of[deps[e]] == component_of[start]
            )
            path.append((node, dep_fields[edge]))
            node = deps[edge]
        cycle = path[seen[node] :]
        steps = " → ".join(f"{label(source)}.{fields_info[field][0]}" for source, field in cycle)
        models_ = sorted({label(source).split("(")[0] for source, _ in cycle})
        return (
            f"Cannot order {', '.join(models_)}: unbreakable cycle {steps} → {label(cycle[0][0])}; "
            "every field in it is NOT NULL, so no object can be created first "
            "(make one of these fields nullable, or exclude one of the models)"
        )


class DeferredLink(NamedTuple):
    """A reference set once both objects exist (it closes a cycle of objects)."""

    position: int
    name: str
    source: Objects
    source_rank: int
    target: Objects
    target_rank: int


class _Cycle(Exception):
    pass


def _nullable(model: Model, name: str) -> bool:
    """The reference ``name`` of ``model`` (a field or a generic relation) may be None."""
    for gfk in generic_fks(model):
        if gfk.name == name:
            return gfk.nullable
    return bool(model._meta.get_field(name).null)


def _levels(total: int, starts: array[int], deps: array[int]) -> array[int]:
    """Longest chain of references below each object (iterative depth-first search); raises
    :class:`_Cycle` if objects reference each other in a cycle."""
    level = array("q", [-1]) * total
    state = bytearray(total)  # 0 new, 1 on the current path, 2 done
    for start in range(total):
        if state[start]:
            continue
        stack = [start]
        while stack:
            node = stack[-1]
            if state[node] == 0:
                state[node] = 1
                for target in deps[starts[node] : starts[node + 1]]:
                    if state[target] == 1:
                        raise _Cycle
                    if state[target] == 0:
                        stack.append(target)
                continue
            stack.pop()
            if state[node] == 1:
                state[node] = 2
                level[node] = 1 + max((level[t] for t in deps[starts[node] : starts[node + 1]]), default=-1)
    return level


def _components(total: int, starts: array[int], deps: array[int]) -> tuple[array[int], bytearray]:
    """Strongly connected components (Tarjan, iterative, on arrays): the component of each
    object and, per component, whether it is a cycle."""
    index = array("q", [-1]) * total
    low = array("q", [0]) * total
    on_stack = bytearray(total)
    component = array("q", [-1]) * total
    stack: list[int] = []
    counter = count = 0
    for start in range(total):
        if index[start] >= 0:
            continue
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack[start] = 1
        work = [(start, starts[start])]
        while work:
            node, edge = work[-1]
            if edge < starts[node + 1]:
                work[-1] = (node, edge + 1)
                target = deps[edge]
                if index[target] < 0:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = 1
                    work.append((target, starts[target]))
                elif on_stack[target]:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = 0
                    component[member] = count
                    if member == node:
                        break
                count += 1
    sizes = [0] * count
    for number in component:
        sizes[number] += 1
    cyclic = bytearray(size > 1 for size in sizes)
    for node in range(total):
        if node in deps[starts[node] : starts[node + 1]]:
            cyclic[component[node]] = 1
    return component, cyclic


def _defer(
    total: int, starts: array[int], deps: array[int], dep_fields: array[int], fields_info: list[tuple[str, bool]]
) -> tuple[array[int], array[int], array[int], list[tuple[int, int, int]]]:
    """Drop the nullable references inside cycles of objects: the references kept (starts,
    targets, field ids), and the deferred ones ``(source, field id, target)``."""
    component, cyclic = _components(total, starts, deps)
    kept_starts = array("q", [0])
    kept = array("q")
    kept_fields = array("q")
    deferred = []
    for node in range(total):
        for edge in range(starts[node], starts[node + 1]):
            target = deps[edge]
            field = dep_fields[edge]
            if cyclic[component[node]] and component[node] == component[target] and fields_info[field][1]:
                deferred.append((node, field, target))
            else:
                kept.append(target)
                kept_fields.append(field)
        kept_starts.append(len(kept))
    return kept_starts, kept, kept_fields, deferred


def _array(values: list[Any]) -> Keys:
    try:
        return array("q", values)
    except (TypeError, OverflowError):
        return values


class LazyObjects(Sequence[DumpObject]):
    """A group's objects, read from the database a slice at a time."""

    def __init__(self, graph: StreamGraph, builder: StreamBuilder, model: Model, start: int, stop: int) -> None:
        self.graph, self.builder, self.model = graph, builder, model
        self.start, self.stop = start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    @overload
    def __getitem__(self, index: int) -> DumpObject: ...

    @overload
    def __getitem__(self, index: slice) -> list[DumpObject]: ...

    def __getitem__(self, index: int | slice) -> DumpObject | list[DumpObject]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        begin, end, step = index.indices(len(self))
        assert step == 1
        return self.builder.read(self.model, self.start + begin, self.start + end)


class StreamBuilder(ScriptBuilder):
    """The script of a :class:`StreamGraph`: the same text as :class:`ScriptBuilder` writes for
    the same objects, each batch's objects read when it is written."""

    def __init__(
        self, graph: StreamGraph, *, save_each: bool = False, all_fields: bool = False, progress: Progress = NO_PROGRESS
    ) -> None:
        self.graph = graph
        self._order = graph.order()
        self.groups = [group for groups, _ in self._order for group in groups]
        self.deferred_names: dict[tuple[Model, int], set[str]] = defaultdict(set)
        """``(model, key rank) → names`` of the references set after the object is created."""
        super().__init__(
            self._sections(), [], fields=graph.fields, save_each=save_each, all_fields=all_fields, progress=progress
        )
        self._named_now: set[int] = set()
        self._plans_refs: dict[Model, tuple[list[str], list[Any]]] = {}
        self._model_resolvers: dict[Model, tuple[list[tuple[str, int, Callable[[Any], Target | None]]], list[Any]]] = {}
        self._target_resolvers: dict[Model, Callable[[Any], Target | None]] = {}
        self._fused_writers: dict[Model, Callable[[tuple[Any, ...]], list[str]] | None] = {}
        self.workers = 1
        """Processes that write the script (2: a forked one writes half)."""
        self.owns_snapshot = False
        """The dump's transaction is its own (a forked process can then read the same data)."""

    def _sections(self) -> list[Section]:
        """The sections of groups (read lazily) and their deferred links (stand-ins that carry
        their objects' variables)."""
        sections = []
        for groups, links in self._order:
            stubs: dict[tuple[Model, int], DumpObject] = {}

            def stub(objects: Objects, rank: int, stubs: dict[tuple[Model, int], DumpObject] = stubs) -> DumpObject:
                if (objects.model, rank) not in stubs:
                    var = objects.var(rank)
                    stubs[(objects.model, rank)] = DumpObject(objects.model, objects.keys[rank], {}, var=var)
                return stubs[(objects.model, rank)]

            edges = []
            for link in links:
                nullable = bool(link.source.model._meta.get_field(link.name).null)
                edges.append(
                    Edge(stub(link.source, link.source_rank), link.name, stub(link.target, link.target_rank), nullable)
                )
                self.deferred_names[(link.source.model, link.source_rank)].add(link.name)
            lazy = [Group(model, LazyObjects(self.graph, self, model, a, b)) for model, a, b in groups]  # type: ignore[arg-type]
            sections.append(Section(lazy, edges))
        return sections

    # -- inserting into a script: objects it creates already, numbers it has taken ------------

    def provisional_names(self) -> None:
        """Until :meth:`number_after`: objects have no name, but those :meth:`reuse` names."""
        for objects in self.graph.by_model.values():
            objects.provisional = True
        self._names_changed()

    def created_objects(self, models_: set[Model]) -> Iterator[tuple[Objects, int, DumpObject]]:
        """The objects of ``models_`` in creation order, with their values and targets, read a
        batch at a time: ``(objects, key rank, object)``."""
        for model, start, stop in self.groups:
            if model not in models_:
                continue
            objects = self.graph.by_model[model]
            for offset in range(start, stop, BATCH):
                for obj in self.read(model, offset, min(offset + BATCH, stop)):
                    yield objects, objects.find(obj.pk), obj

    def reuse(self, objects: Objects, rank: int, var: str) -> None:
        """The script creates this object already, as ``var``: it is not created again, and
        what points at it says ``var``."""
        objects.reuse(rank, var)
        self._names_changed()

    def number_after(self, taken: set[str]) -> None:
        """Give the objects their names, numbered after the highest ``stem_N`` in ``taken``."""
        for objects in self.graph.by_model.values():
            objects.provisional = False
            objects.base = _highest(objects.stem, taken) if taken else 0
        self._names_changed()

    def created(self) -> Counter[str]:
        """Objects the script creates, per model label (reused ones not counted)."""
        return Counter(
            {m._meta.label: len(o) - len(o.reused) for m, o in self.graph.by_model.items() if len(o) - len(o.reused)}
        )

    def _names_changed(self) -> None:
        self._target_resolvers.clear()
        self._model_resolvers.clear()
        self._fused_writers.clear()
        self.sections = self._sections()

    def register_models(self) -> None:
        used = {model for model, _, _ in self.groups}
        used.update(lookup.model for lookup in self.graph.natural.values())
        for model in sorted(used, key=lambda m: m._meta.label):
            self.class_name(model)

    def counts(self) -> Counter[str]:
        return Counter({m._meta.label: len(o) for m, o in self.graph.by_model.items() if len(o)})

    def _referenced(self) -> set[int]:
        return set()

    def is_named(self, obj: DumpObject) -> bool:
        return id(obj) in self._named_now

    def _columns(self, model: Model) -> tuple[list[str], list[Any]]:
        """The columns of ``model``'s rows (the written fields) and the plan of its references
        in those rows (:meth:`StreamGraph.targets_of`)."""
        if model not in self._plans_refs:
            names = [f.attname for f in self.fields(model)]
            indexes = {name: position + 1 for position, name in enumerate(names)}
            ref_columns, plan = self.graph.references(model)
            row_plan = [
                (kind, name, indexes[ref_columns[a - 1]] if kind == "gfk" else a, indexes[ref_columns[b - 1]])
                for kind, name, a, b in plan
            ]
            self._plans_refs[model] = (names, row_plan)
        return self._plans_refs[model]

    def _resolvers(self, model: Model) -> tuple[list[tuple[str, int, Callable[[Any], Target | None]]], list[Any]]:
        """For ``model``'s rows: ``(name, column, value → target)`` of each foreign key, and the
        plan of its generic relations."""
        if model not in self._model_resolvers:
            _, plan = self._columns(model)
            resolvers = []
            generic = []
            for kind, name, a, b in plan:
                if kind == "gfk":
                    generic.append((kind, name, a, b))
                elif kind == "fk":
                    resolvers.append((name, b, self._resolver(a)))
                elif self.graph.is_lookup(a):  # a looked-up row, by another unique field
                    resolvers.append((name, b, partial(_natural_by_value, self.graph.natural, a, kind)))
                else:  # by another unique field: its value → the key → the target
                    by_value = self.graph._by_value.get((a, kind), {})
                    resolve = self._resolver(a)
                    resolvers.append((name, b, _through_value(by_value, resolve)))
            self._model_resolvers[model] = (resolvers, generic)
        return self._model_resolvers[model]

    def _resolver(self, model: Model) -> Callable[[Any], Target | None]:
        """Key of a ``model`` row → the object (a stand-in with its variable) or lookup."""
        if model in self._target_resolvers:
            return self._target_resolvers[model]
        graph = self.graph
        if graph.is_lookup(model):
            natural = graph.natural

            def resolve(key: Any) -> Target | None:
                return natural.get((model, key))

        else:
            cache: dict[Any, DumpObject] = {}

            def resolve(key: Any) -> Target | None:
                stub = cache.get(key)
                if stub is None or type(stub.pk) is not type(key):
                    found = graph.find(model, key)
                    if found is None:
                        return None
                    objects, rank = found
                    stub = DumpObject(objects.model, key, {}, var=objects.var(rank))
                    if len(cache) >= 4096:  # a few targets referenced often (tags), not every one
                        cache.clear()
                    cache[key] = stub
                return stub

        self._target_resolvers[model] = resolve
        return resolve

    def _batch_rows(self, model: Model, keys: list[Any]) -> Iterator[tuple[Any, tuple[Any, ...]]]:
        """``(key, row)`` for ``keys`` in their order: one batch read again (the written fields)."""
        names, _ = self._columns(model)
        rows = {row[0]: row for row in self.graph.rows(model, sorted(keys, key=_sort_key), names)}
        for key in keys:
            row = rows.get(key)
            if row is None:
                raise DumpscriptError(
                    f"{model._meta.label}(pk={key!r}) was deleted while it was being dumped; dump again"
                )
            yield key, row

    def read(self, model: Model, start: int, stop: int) -> list[DumpObject]:
        """The objects at creation positions ``start`` to ``stop`` of ``model``, with their values
        and targets (stand-ins that carry only their variable)."""
        objects = self.graph.by_model[model]
        keys = objects.creation_keys(start, stop)
        names, _ = self._columns(model)
        resolvers, generic = self._resolvers(model)
        result = []
        named_now = set()
        self.deferred_now.clear()
        family = len(self.graph.families[root_model(model)]) > 1
        for position, (key, row) in enumerate(self._batch_rows(model, keys), start):
            rank = objects.rank(position)
            if objects.reused and rank in objects.reused:
                continue  # the script being edited creates it already
            obj = DumpObject(model, key, dict(zip(names, row[1:], strict=True)))
            obj.var = objects.var(rank)
            if family:
                primary = self.graph.primary(objects, key)
                if primary is not None:
                    link = model._meta.get_ancestor_link(_common_ancestor(model, primary[0].model))
                    assert link is not None
                    obj.link = link.name
                    obj.targets[obj.link] = DumpObject(primary[0].model, key, {}, var=primary[0].var(primary[1]))
            targets = obj.targets
            for name, column, resolve in resolvers:
                value = row[column]
                if value is not None:
                    target = resolve(value)
                    if target is not None:
                        targets[name] = target
            if generic:
                for name, target_model, target_key in self.graph.targets_of(row, generic):
                    target = self._resolver(target_model)(target_key)
                    if target is not None:
                        targets[name] = target
            if objects.named[rank]:
                named_now.add(id(obj))
            if self.deferred_names:
                names_ = self.deferred_names.get((model, rank))
                if names_:
                    self.deferred_now[id(obj)] = names_
            result.append(obj)
        self._named_now = named_now
        return result

    # -- the common case, fused ------------------------------------------------------------

    def group_pieces(self, group: Group, deferred: dict[int, set[str]], first: bool) -> Iterator[Piece]:
        """:meth:`ScriptBuilder.group_pieces`, straight from the rows for the models whose
        objects are plain (no generic relation, auto_now field, inheritance, deferred link):
        the same text, without an object or a dictionary per row."""
        lazy = group.objects
        if not isinstance(lazy, LazyObjects) or self._fused(group.model) is None:
            yield from super().group_pieces(group, deferred, first)
            return
        for offset in range(0, len(lazy), BATCH):
            yield from self._fused_batch(group, offset, first)

    def _fused_batch(self, group: Group, offset: int, first: bool) -> list[Piece]:
        """The statements of the batch at ``offset`` of a plain group (see :meth:`group_pieces`)."""
        lazy = group.objects
        assert isinstance(lazy, LazyObjects)
        fused = self._fused(group.model)
        assert fused is not None
        model = group.model
        objects = self.graph.by_model[model]
        label = model._meta.label
        cls = self.cls(model).value
        advance = self.progress.advance

        def lead() -> str:
            """The model's comment above its first statement; a blank line above each batch."""
            if statements:
                return ""
            return "\n" if offset else ("" if first else "\n") + f"{INDENT}# {label}\n"

        start = lazy.start + offset
        keys = objects.creation_keys(start, min(start + BATCH, lazy.stop))
        statements: list[Piece] = []
        elements: list[str] = []
        variables: list[str] = []
        inline = False
        for position, (_, row) in enumerate(self._batch_rows(model, keys), start):
            advance(label)
            args = fused(row)
            rank = position if objects.order is None else objects.order[position]
            if objects.named[rank]:
                var = objects.var(rank)
                statements.append(lead() + _call_text(f"{var} = {cls}", args))
                elements.append(f"{INDENT * 2}{var},\n")
                variables.append(var)
            else:
                inline = True
                elements.append(_element_text(cls, args))
        head = f"{self.manager_text(cls, model)}.bulk_create"
        text = _exploded_list_call_text(head, elements) if inline else _list_call_text(head, variables)
        if not text:  # a name too long for any line: the general path lays it out
            batch = lazy[offset : offset + BATCH]
            return self._batch_statements(batch, self.deferred_now, first, bool(offset), False, [])
        statements.append(lead() + text)
        return statements

    # -- a second process ------------------------------------------------------------------

    def iter_statements(self) -> Iterator[Piece]:
        """:meth:`ScriptBuilder.iter_statements`; with :attr:`workers` above 1, a forked process
        writes the second half of the objects (by weight) while this one writes the first,
        both reading the same snapshot of the database. Its text is used when it succeeded and
        asked for the same import names this process gives (else this process writes that
        half too): the script is the same byte for byte."""
        if self.workers < 2 or not self._can_fork():
            yield from super().iter_statements()
            return
        self._prepare_statements()
        units = self._units()
        total = sum(unit.weight for unit in units)
        cut, done = len(units), 0
        for number, unit in enumerate(units):
            if done >= total / 2:
                cut = number
                break
            done += unit.weight
        child = self._fork(units[cut:]) if cut < len(units) else None
        try:
            for unit in units[:cut]:
                yield from unit.render()
            text = child.result(self) if child is not None else None
            if text is None:
                for unit in units[cut:]:
                    yield from unit.render()
            else:
                for unit in units[cut:]:
                    self.progress.advance(unit.label, unit.rows)
                yield from text
        finally:
            if child is not None:
                child.discard()
        yield from self.m2m_pieces()

    def _units(self) -> list[_Unit]:
        """The statements before the many-to-many links, as pieces of work in order: a batch of
        a plain group, a whole other group, the deferred links of a section."""
        units = []
        first = True
        for section in self.sections:
            for group in section.groups:
                lazy = group.objects
                model = group.model
                label = model._meta.label
                columns = len(self.fields(model)) + 1
                if isinstance(lazy, LazyObjects) and self._fused(model) is not None:
                    for offset in range(0, len(lazy), BATCH):
                        rows = min(BATCH, len(lazy) - offset)
                        render = partial(self._fused_batch, group, offset, first)
                        units.append(_Unit(rows * columns, label, rows, render))
                else:
                    render = partial(self._general_group, group, first)
                    units.append(_Unit(len(lazy) * columns, label, len(lazy), render))
                first = False
            if section.deferred:
                units.append(_Unit(len(section.deferred), "", 0, partial(self.deferred_statements, section.deferred)))
        return units

    def _general_group(self, group: Group, first: bool) -> list[Piece]:
        return list(ScriptBuilder.group_pieces(self, group, self.deferred_now, first))

    def _can_fork(self) -> bool:
        """A second process can read what this one reads: a fork, no other thread, the dump's own
        snapshot (not a caller's transaction) of a database that another connection sees the
        same (PostgreSQL with an exported snapshot; SQLite in a file, not in WAL mode, where
        this process's read lock keeps writers out)."""
        if not hasattr(os, "fork") or threading.active_count() != 1 or not self.owns_snapshot:
            return False
        if sum(len(g.objects) for s in self.sections for g in s.groups) < PARALLEL_ROWS:
            return False
        connection = connections[self.graph.using]
        if connection.vendor == "postgresql":
            return True
        if connection.vendor != "sqlite" or connection.is_in_memory_db():  # type: ignore[attr-defined]
            return False
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            (mode,) = cursor.fetchone()
        return str(mode).lower() != "wal"

    def _fork(self, units: list[_Unit]) -> _Child | None:
        using = self.graph.using
        snapshot_id = None
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                (snapshot_id,) = cursor.fetchone()
        handle, path = tempfile.mkstemp(prefix="dumpscript-", suffix=".part")
        os.close(handle)
        child = _Child(0, Path(path))
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            child.discard()
            return None
        if pid:
            child.pid = pid
            return child
        code = 1  # the child: write the units to the file, the imports asked for beside it
        connected = False
        try:
            self.progress = NO_PROGRESS
            _reconnect(using, snapshot_id)
            connected = True
            calls: list[list[Any]] = []
            _record_imports(self.imports, calls)
            with child.path.open("w", encoding="utf-8", newline="\n") as stream:
                for unit in units:
                    for piece in unit.render():
                        stream.write(piece if isinstance(piece, str) else render_statement(piece, INDENT))
            child.calls_path.write_text(json.dumps(calls), encoding="utf-8")
            code = 0
        finally:
            if connected:  # its own connection, not the parent's
                with contextlib.suppress(Exception):
                    connections[using].close()
            os._exit(code)

    def _fused(self, model: Model) -> Callable[[tuple[Any, ...]], list[str]] | None:
        """``row → ["name=value", ...]``, compiled for ``model``; None when its objects are not
        plain (see :meth:`group_pieces`)."""
        if model in self._fused_writers:
            return self._fused_writers[model]
        writer = None
        if self._plain(model):
            writer = self._compile_fused(model)
        self._fused_writers[model] = writer
        return writer

    def _plain(self, model: Model) -> bool:
        if self.save_each or model._meta.parents or generic_fks(model) or self.graph.by_model[model].reused:
            return False
        if len(self.graph.families[root_model(model)]) > 1:
            return False
        if any(source is model for source, _ in self.deferred_names):
            return False
        return not any(auto for _, _, auto, _, _ in self._text_plan(model))

    def _compile_fused(self, model: Model) -> Callable[[tuple[Any, ...]], list[str]]:
        """Python source for :meth:`ScriptBuilder.kwargs_text` specialised to ``model``'s
        fields, compiled: one ``if`` per field, constants bound as defaults."""
        names, _ = self._columns(model)
        resolvers = {name: resolve for name, _, resolve in self._resolvers(model)[0]}
        scope: dict[str, Any] = {
            "_ALWAYS": _ALWAYS,
            "_is_default": _is_default,
            "DumpObject": DumpObject,
            "slow": self._slow_text,
            "raw": self._raw_text,
            "lookup_text": lambda target: self.target_arg(target).text(),
        }
        lines = ["def fused(row):", "    args = []", "    append = args.append"]
        for number, (f, relation, _, default, writers) in enumerate(self._text_plan(model)):
            column = names.index(f.attname) + 1
            scope[f"f{number}"], scope[f"d{number}"], scope[f"w{number}"] = f, default, writers
            lines.append(f"    v = row[{column}]")
            body = "    "
            if default is not _ALWAYS:
                lines.append(f"    if not (v is d{number} or (v == d{number} and _is_default(v, d{number}))):")
                body = "        "
            if relation:
                scope[f"r{number}"] = resolvers[f.name]
                lines += [
                    f"{body}if v is not None:",
                    f"{body}    t = r{number}(v)",
                    f"{body}    if t is None:",
                    f"{body}        append({f.attname + '='!r} + raw(v, f{number}, row[0]))",
                    f"{body}    elif type(t) is DumpObject:",
                    f"{body}        append({f.name + '='!r} + t.var)",
                    f"{body}    else:",
                    f"{body}        append({f.name + '='!r} + lookup_text(t))",
                    f"{body}else:",
                    f"{body}    append({f.name + '=None'!r})",
                ]
                continue
            lines += [
                f"{body}w = w{number}.get(type(v))",
                f"{body}t = w(v) if w is not None else None",
                f"{body}if t is None:",
                f"{body}    t = 'None' if v is None else slow(v, f{number}, row[0])",
                f"{body}append({f.name + '='!r} + t)",
            ]
        lines.append("    return args")
        exec("\n".join(lines), scope)
        return scope["fused"]  # type: ignore[no-any-return]

    def _slow_text(self, value: Any, field: AnyField, pk: Any) -> str:
        self._where_obj, self._where_field = DumpObject(field.model, pk, {}), field
        return field_value_text(value, field, self._context())

    def _raw_text(self, value: Any, field: AnyField, pk: Any) -> str:
        self._where_obj, self._where_field = DumpObject(field.model, pk, {}), field
        return render_expression(encode_python(value, self._context()))

    # -- many-to-many ----------------------------------------------------------------------

    def m2m_pieces(self) -> Iterator[Piece]:
        return self._stream_m2m()

    def _global(self) -> tuple[dict[Model, int], dict[tuple[Model, int], int]]:
        """Where each group starts in creation order over all objects."""
        plain: dict[Model, int] = {}
        by_level: dict[tuple[Model, int], int] = {}
        position = 0
        for model, start, stop in self.groups:
            objects = self.graph.by_model[model]
            if objects.level is None:
                plain[model] = position
            else:
                rank = objects.order[start]  # type: ignore[index]
                by_level[(model, objects.level[rank])] = position - start
            position += stop - start
        return plain, by_level

    def _stream_m2m(self) -> Iterator[Piece]:
        graph = self.graph
        plain, by_level = self._global()
        starts: list[int] = []
        position = 0
        for _, start, stop in self.groups:
            starts.append(position)
            position += stop - start
        total = max(position, 1)

        def rank_of(objects: Objects, rank: int) -> int:
            if objects.level is None:
                return plain[objects.model] + rank
            assert objects.pos is not None
            return by_level[(objects.model, objects.level[rank])] + objects.pos[rank]

        def at(position: int) -> tuple[Objects, int]:
            """The objects and key rank at a creation position over all objects."""
            group = bisect.bisect_right(starts, position) - 1
            model, start, _ = self.groups[group]
            objects = graph.by_model[model]
            return objects, objects.rank(start + position - starts[group])

        def name_at(position: int) -> str:
            objects, rank = at(position)
            return objects.var(rank)

        def known(m2m: AnyManyToMany, a: int, b: int) -> tuple[bool, bool]:
            """Whether both objects are reused, and whether the script links them already."""
            (source, source_rank), (target, target_rank) = at(a), at(b)
            if source_rank not in source.reused or target_rank not in target.reused:
                return False, False
            return True, self.known_pair(m2m, source.reused[source_rank], target.reused[target_rank])

        if self.save_each:
            yield from self._m2m_adds(rank_of, name_at, known)
            return
        fields = sorted(graph.m2m, key=lambda item: (item[0].model._meta.label, item[0].name))
        for m2m, target_model, sources, targets in fields:
            symmetrical = m2m.remote_field.symmetrical and m2m.related_model == m2m.model
            source_model = concrete_of(m2m.model)
            if graph.is_lookup(target_model):
                yield from self._lookup_links(m2m, target_model, sources, targets, rank_of)
                continue
            packed = array("q")
            for source_key, target_key in zip(sources, targets, strict=True):
                found_source = graph.find(source_model, source_key)
                found_target = graph.find(target_model, target_key)
                if found_source is None or found_target is None:
                    continue
                a, b = rank_of(*found_source), rank_of(*found_target)
                packed.append(a * total + b)
                if symmetrical:
                    packed.append(b * total + a)
            if not packed:
                continue
            ordered = array("q", sorted(set(packed)))
            del packed
            conflicts = False
            if self.known_links or any(o.reused for o in graph.by_model.values()):
                kept = array("q")
                for key in ordered:
                    both, linked = known(m2m, key // total, key % total)
                    if not linked:
                        kept.append(key)
                        conflicts = conflicts or both
                ordered = kept
                if not ordered:
                    continue
            names = ((name_at(key // total), name_at(key % total)) for key in ordered)
            yield from self._through_pieces(m2m, names, len(ordered), conflicts)

    def _m2m_adds(
        self,
        rank_of: Callable[[Objects, int], int],
        name_at: Callable[[int], str],
        known: Callable[[AnyManyToMany, int, int], tuple[bool, bool]],
    ) -> Iterator[Piece]:
        """With ``save_each``: ``source.field.add(...)`` per object and field, in creation order,
        so that ``m2m_changed`` is sent; a symmetrical link once, from the object created first."""
        graph = self.graph
        entries: list[tuple[int, str, tuple[int, Any], str]] = []
        for m2m, target_model, sources, targets in graph.m2m:
            source_model = concrete_of(m2m.model)
            if graph.is_lookup(target_model):
                for source_key, target_key in zip(sources, targets, strict=True):
                    found_source = graph.find(source_model, source_key)
                    lookup = graph.natural.get((target_model, target_key))
                    if found_source is not None and lookup is not None:
                        order = (1, tuple(str(part) for part in lookup.key))
                        entries.append((rank_of(*found_source), m2m.name, order, self.target_arg(lookup).text()))
                continue
            pairs = set()
            for source_key, target_key in zip(sources, targets, strict=True):
                found_source = graph.find(source_model, source_key)
                found_target = graph.find(target_model, target_key)
                if found_source is not None and found_target is not None:
                    pairs.add((rank_of(*found_source), rank_of(*found_target)))
            symmetrical = m2m.remote_field.symmetrical and m2m.related_model == m2m.model
            for a, b in pairs:
                if not (symmetrical and b < a and (b, a) in pairs) and not known(m2m, a, b)[1]:
                    entries.append((a, m2m.name, (0, b), ""))
        entries.sort(key=lambda entry: entry[:3])
        first = True
        for (source, name), group in itertools.groupby(entries, key=lambda entry: entry[:2]):
            args = [text or name_at(order[1]) for _, _, order, text in group]
            comment = ["Many-to-many links"] if first else None
            yield _lead_text(comment, first) + _call_text(f"{name_at(source)}.{name}.add", args)
            first = False

    def _lookup_links(
        self, m2m: AnyManyToMany, target_model: Model, sources: Keys, targets: Keys, rank_of: Any
    ) -> Iterator[Piece]:
        """Links to looked-up rows (a user's permissions): few, sorted by natural key."""
        graph = self.graph
        source_model = concrete_of(m2m.model)
        texts: dict[Any, str] = {}
        rows: dict[tuple[int, Any], tuple[tuple[int, tuple[str, ...]], str, str]] = {}
        for source_key, target_key in zip(sources, targets, strict=True):
            found_source = graph.find(source_model, source_key)
            lookup = graph.natural.get((target_model, target_key))
            if found_source is None or lookup is None:
                continue
            if target_key not in texts:
                texts[target_key] = self.target_arg(lookup).text()
            rank = rank_of(*found_source)
            sort_key = (rank, tuple(str(part) for part in lookup.key))
            rows.setdefault((rank, target_key), (sort_key, found_source[0].var(found_source[1]), texts[target_key]))
        if rows:
            ordered = sorted(rows.values(), key=lambda row: row[0])
            yield from self._through_pieces(m2m, ((a, b) for _, a, b in ordered), len(ordered))

    def known_pair(self, m2m: AnyManyToMany, source: str, target: str) -> bool:
        """The script being edited links the variables ``source`` and ``target`` through ``m2m``
        already (symmetrical links count both ways)."""
        if (m2m.name, source, target) in self.known_links:
            return True
        symmetrical = m2m.remote_field.symmetrical and m2m.related_model == m2m.model
        return bool(symmetrical) and (m2m.name, target, source) in self.known_links

    def _through_pieces(
        self, m2m: AnyManyToMany, pairs: Iterator[tuple[str, str]], count: int, conflicts: bool = False
    ) -> Iterator[Piece]:
        """Rows of the automatic through model; ``conflicts``: some link two objects the script
        being edited creates already (the row may be there: ``ignore_conflicts=True``)."""
        import libcst as cst

        from dumpscript.cst import _format as fmt
        from dumpscript.values import _literals as lit

        cls = self.cls(m2m.model).value
        through = self.fresh(f"{cls}_{m2m.name}")
        source_name, target_name = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        manager = f"{through}.objects" if self.using is None else f"{through}.objects.using({self.using})"
        alias = cst.Assign([cst.AssignTarget(lit.name(through))], lit.attribute(f"{cls}.{m2m.name}.through"))
        yield fmt.statement(alias, comment_lines=[f"{m2m.model._meta.label}.{m2m.name}"], blank_before=True)
        for offset in range(0, count, BATCH):
            elements = [
                _element_text(through, [f"{source_name}={a}", f"{target_name}={b}"])
                for a, b in itertools.islice(pairs, BATCH)
            ]
            keywords = [("ignore_conflicts", lit.name("True"))] if conflicts else None
            yield ("\n" if offset else "") + _exploded_list_call_text(f"{manager}.bulk_create", elements, keywords)


PARALLEL_ROWS = 20_000
"""Objects from which a dump is written by two processes (when :attr:`StreamBuilder.workers`
allows it)."""

_INHERITED: list[Any] = []
"""A forked process's copies of the parent's database connections: kept, never closed (that
would close the parent's session)."""


class _Unit(NamedTuple):
    weight: int
    label: str
    rows: int
    render: Callable[[], list[Piece]]


class _Child:
    """A forked process writing units of the script to ``path``."""

    def __init__(self, pid: int, path: Path) -> None:
        self.pid, self.path = pid, path
        self.calls_path = path.with_suffix(".imports")

    def result(self, builder: StreamBuilder) -> Iterator[str] | None:
        """The child's text, once it has exited successfully and its import names were asked
        for again here with the same answers; None otherwise (nothing changed here)."""
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if os.waitstatus_to_exitcode(status) != 0 or not self.calls_path.exists():
            return None
        calls = json.loads(self.calls_path.read_text(encoding="utf-8"))
        imports = builder.imports
        saved = copy.deepcopy(imports.__dict__)
        for kind, args, answer in calls:
            got = (
                imports.module(*args)
                if kind == "module"
                else imports.name(args[0], args[1], late=args[2], alias_prefix=args[3])
            )
            if got != answer:
                imports.__dict__.clear()
                imports.__dict__.update(saved)
                return None
        return self._chunks()

    def _chunks(self) -> Iterator[str]:
        with self.path.open(encoding="utf-8", newline="") as stream:
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    return
                yield chunk

    def discard(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0
        self.path.unlink(missing_ok=True)
        self.calls_path.unlink(missing_ok=True)


def _reconnect(using: str, snapshot_id: str | None) -> None:
    """In a forked process: a connection of its own, in a transaction that reads the parent's
    snapshot (PostgreSQL) or the same file (SQLite, which the parent's read lock keeps as is)."""
    connection = connections[using]
    _INHERITED.append(connection.connection)
    connection.connection = None
    connection.connect()
    transaction.atomic(using=using).__enter__()
    if snapshot_id is not None:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])


def _record_imports(imports: Any, calls: list[list[Any]]) -> None:
    """Note every import name ``imports`` gives from now on, with its answer."""
    module, name = imports.module, imports.name

    def record_module(target: str) -> str:
        answer = module(target)
        calls.append(["module", [target], answer])
        return str(answer)

    def record_name(target: str, what: str, *, late: bool = False, alias_prefix: str = "") -> str:
        answer = name(target, what, late=late, alias_prefix=alias_prefix)
        calls.append(["name", [target, what, late, alias_prefix], answer])
        return str(answer)

    imports.module, imports.name = record_module, record_name


def _through_value(keys: dict[Any, Any], resolve: Callable[[Any], Target | None]) -> Callable[[Any], Target | None]:
    """A reference by another unique field: its value → the row's key → the target."""

    def resolve_value(value: Any) -> Target | None:
        key = keys.get(value)
        return None if key is None else resolve(key)

    return resolve_value


def _natural_by_value(
    natural: dict[tuple[Model, Any], Lookup], model: Model, attname: str, value: Any
) -> Lookup | None:
    return natural.get((model, ("value", attname, value)))
