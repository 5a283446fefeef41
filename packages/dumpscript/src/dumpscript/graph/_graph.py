"""The selection → the graph: every object to dump, what it points at, its many-to-many links.

The objects are kept per model as :class:`~dumpscript.graph._objects.Objects` (sorted keys and a
byte or two each), never as a Python object per row. Rows are read by chunks of keys: once for
their keys, once more for their references (following them until nothing points outside the
set), and once more by the writer for their values. Content types and permissions (rows that
migrations create), and the models the options name, are looked up instead of included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, models

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript._types import AnyField, AnyManyToMany
from dumpscript.errors import DumpscriptError
from dumpscript.graph._objects import Objects
from dumpscript.meta.keys import Collector, KeyColumns, Keys, key_array, sort_key, sorted_keys
from dumpscript.meta.relations import (
    Lookup,
    Model,
    Reference,
    attname,
    auto_m2m_fields,
    concrete_of,
    other_roots,
    reference_columns,
    references,
    root_model,
    written_fields,
)
from dumpscript.selection import Selection

RANGE_ROWS = 2000
"""Rows per query when a chunk's integer keys are dense (read by a key range)."""


@dataclass
class Links:
    """The many-to-many links of one automatic through table to write: pairs of keys."""

    field: AnyManyToMany
    target: Model
    """The concrete model of the targets."""
    sources: Keys
    targets: Keys
    ids: Keys | None = None
    """With ``keep_pks``: the primary keys of the link rows, in the same order."""


class Graph:
    """The closed set of objects to dump, per model, and their many-to-many links."""

    def __init__(
        self, selection: Selection, *, using: str, keep_pks: bool = False, progress: Progress = NO_PROGRESS
    ) -> None:
        self.selection = selection
        self.using = using
        self.keep_pks = keep_pks
        self.progress = progress
        self.by_model: dict[Model, Objects] = {}
        self.families: dict[Model, list[Objects]] = defaultdict(list)
        """Root model → the objects of the models of its multi-table family, in creation order."""
        self.model_succ: dict[Model, set[Model]] = defaultdict(set)
        """Model → the models its objects point at (they are created first)."""
        self.natural: dict[tuple[Model, Any], Lookup] = {}
        """``(model, key)`` (or ``(model, ("value", attname, value))``) → its lookup."""
        self.m2m: list[Links] = []
        self.dangling: set[tuple[Model, Any]] = set()
        self.max_params = min(connections[using].features.max_query_params or 999, 999) - 10
        self._fields: dict[Model, list[AnyField]] = {}
        self._references: dict[Model, tuple[list[str], list[Reference]]] = {}
        self._ct_cache: dict[int, Model | None] = {}
        self.keys = KeyColumns(using)
        """How keys are read (:class:`~dumpscript.meta.keys.KeyColumns`)."""
        self.by_value: dict[tuple[Model, str], dict[Any, Any]] = {}
        """``(model, field attname) → {value: primary key or None}`` for references by a field."""
        _Fill(self).run()

    # -- objects ---------------------------------------------------------------------------

    def fields(self, model: Model) -> list[AnyField]:
        """The fields the script writes for ``model``."""
        if model not in self._fields:
            self._fields[model] = written_fields(model, self.keep_pks)
        return self._fields[model]

    def is_lookup(self, model: Model) -> bool:
        return self.selection.is_lookup(model)

    def objects_of(self, model: Model) -> Objects:
        if model not in self.by_model:
            objects = Objects(model)
            self.by_model[model] = objects
            self.families[root_model(model)].append(objects)
            for root, _ in other_roots(model):
                self.families[root].append(objects)
        return self.by_model[model]

    def add(self, model: Model, keys: Keys, *, outside: bool, referenced: bool) -> None:
        """Add objects of ``model``; for a child whose rows have other keys in an ancestor's
        table, read those keys, and take over the rows that objects of that ancestor held."""
        objects = self.objects_of(model)
        objects.add(keys, outside=outside, referenced=referenced)
        for root, name in other_roots(model):
            alias = objects.aliases.setdefault(root, {})
            there = []
            for start in range(0, len(keys), self.max_params):
                chunk = list(keys[start : start + self.max_params])
                for here, key in (
                    model._base_manager.using(self.using)
                    .filter(pk__in=chunk)
                    .values_list(*self.columns(model, ["pk", name]))
                ):
                    alias[key] = here
                    there.append(key)
            for other in self.families[root]:
                held = {key for key in there if other.find(key) >= 0} if root not in other.aliases else None
                if held and issubclass(model, other.model):
                    other.remove(held)

    def present(self) -> list[Model]:
        """The models that have objects, by label."""
        return sorted((m for m, o in self.by_model.items() if len(o)), key=lambda m: m._meta.label)

    def find(self, model: Model, key: Any) -> tuple[Objects, int] | None:
        """The object with primary key ``key`` that is a ``model`` (a concrete model): the first
        child that covers the row, or a second one."""
        root = root_model(model)
        for objects in self.families.get(root, ()):
            rank = objects.rank(root, key)
            if rank >= 0 and issubclass(objects.model, model):
                return objects, rank
        return None

    def primary(self, objects: Objects, key: Any) -> tuple[Objects, int] | None:
        """For a second child of one parent row (a place that is a restaurant *and* a bar):
        the object that creates the shared row, created before it."""
        root = root_model(objects.model)
        for other in self.families[root]:
            if other is objects:
                return None
            rank = other.rank(root, key)
            if rank >= 0:
                return other, rank
        return None

    # -- reading rows by key ----------------------------------------------------------------

    def rows(self, model: Model, keys: Sequence[Any], columns: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """``(pk, *columns)`` of the rows with ``keys`` (sorted), in that order; one query per
        chunk: a key range when the keys are dense integers, else ``pk__in``."""
        try:
            yield from self._rows(model, keys, columns)
        except DatabaseError as error:  # a table Django cannot read on this backend
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DumpscriptError(
                f"Cannot dump {model._meta.label}: the database refused to read its rows: {message}"
            ) from None

    def _rows(self, model: Model, keys: Sequence[Any], columns: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        manager = model._base_manager.using(self.using)
        start, count = 0, len(keys)
        while start < count:
            first = keys[start]
            stop = min(start + RANGE_ROWS, count)
            last = keys[stop - 1]
            if type(first) is int and type(last) is int and last - first < 2 * (stop - start):
                rows = (
                    manager.filter(pk__gte=first, pk__lte=last)
                    .order_by("pk")
                    .values_list(*self.columns(model, ["pk", *columns]))
                )
                wanted = set(keys[start:stop]) if last - first + 1 != stop - start else None
                for row in rows.iterator(chunk_size=RANGE_ROWS):
                    if wanted is None or row[0] in wanted:
                        yield row
            else:
                stop = min(start + self.max_params, count)
                chunk = list(keys[start:stop])
                found = {
                    row[0]: row
                    for row in manager.filter(pk__in=chunk).values_list(*self.columns(model, ["pk", *columns]))
                }
                for key in chunk:
                    row = found.get(key)
                    if row is not None:
                        yield row
            start = stop

    # -- references ------------------------------------------------------------------------

    def references(self, model: Model) -> tuple[list[str], list[Reference]]:
        """The columns to read for ``model``'s references, and the references in those rows."""
        if model not in self._references:
            fields = self.fields(model)
            columns = reference_columns(fields, model)
            self._references[model] = (columns, references(model, fields, columns))
        return self._references[model]

    def stored_keys(self, model: Model) -> bool:
        return self.keys.stored_keys(model)

    def columns(self, model: Model, names: Sequence[Any]) -> list[Any]:
        return self.keys.columns(model, names)

    def content_model(self, ct_id: Any) -> Model | None:
        """The model of a content type id (None for a content type that no longer exists)."""
        if ct_id not in self._ct_cache:
            from django.contrib.contenttypes.models import ContentType

            try:
                model = ContentType.objects.db_manager(self.using).get_for_id(ct_id).model_class()
            except ContentType.DoesNotExist:
                model = None
            self._ct_cache[ct_id] = model
        return self._ct_cache[ct_id]

    def targets_of(
        self, row: tuple[Any, ...], refs: list[Reference], unknown: Callable[[Model, str, Any], None] | None = None
    ) -> Iterator[tuple[str, Model, Any]]:
        """``(name, concrete target model, key)`` for every non-null reference in ``row``; a
        reference by another field whose key is not known yet is given to ``unknown``. The key
        of a looked-up row found by another field is ``("value", attname, value)``."""
        for ref in refs:
            value = row[ref.column]
            if value is None:
                continue
            if ref.kind == "key":
                assert ref.target is not None
                yield ref.name, ref.target, value
            elif ref.kind == "embedded":
                assert ref.ids is not None and ref.target is not None
                for key in ref.ids.keys(value):
                    yield ref.name, ref.target, key
            elif ref.kind == "field":
                assert ref.target is not None
                if self.is_lookup(ref.target):
                    yield ref.name, ref.target, ("value", ref.by, value)
                    continue
                by_value = self.by_value.setdefault((ref.target, ref.by), {})
                if value in by_value:
                    if by_value[value] is not None:
                        yield ref.name, ref.target, by_value[value]
                elif unknown is not None:
                    unknown(ref.target, ref.by, value)
            else:
                ct_id = row[ref.ct_column]
                model = self.content_model(ct_id) if ct_id is not None else None
                if model is None:
                    continue
                try:
                    pk = value if self.stored_keys(concrete_of(model)) else model._meta.pk.to_python(value)  # type: ignore[union-attr]
                except ValidationError:
                    continue
                yield ref.name, concrete_of(model), pk


class _Fill:
    """Fills a :class:`Graph`: the selected rows, their many-to-many links, then the rows they
    point at until nothing points outside the set; the lookups last."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.using = graph.using
        self.selection = graph.selection
        self.progress = graph.progress
        self.max_params = graph.max_params
        self.by_model, self.families, self.model_succ = graph.by_model, graph.families, graph.model_succ
        self.find, self.objects_of, self.rows = graph.find, graph.objects_of, graph.rows
        self.is_lookup, self.references, self.targets_of = graph.is_lookup, graph.references, graph.targets_of
        self.natural, self.m2m, self.dangling, self.by_value = graph.natural, graph.m2m, graph.dangling, graph.by_value
        self._lookup_pending: dict[Model, set[Any]] = defaultdict(set)
        self._wanted: dict[Model, dict[Any, set[Model]]] = defaultdict(dict)
        self._value_pending: dict[tuple[Model, str], dict[Any, set[Model]]] = defaultdict(dict)

    def run(self) -> None:
        self._read_selected()
        self._collect_m2m()
        self._close()

    def _read_selected(self) -> None:
        # Most derived models first: a child object covers its parent rows.
        ordered = sorted(self.selection.selected, key=lambda m: (-len(m._meta.get_parent_list()), m._meta.label))
        for model in ordered:
            root = root_model(model)
            family = list(self.families.get(root, ()))
            label = model._meta.label
            found = Collector()
            chunk: list[Any] = []
            for pk in self._selected_keys(model):
                chunk.append(pk)
                if len(chunk) == 2000:
                    found.extend(_uncovered(model, root, family, chunk))
                    self.progress.advance(label, len(chunk))
                    chunk = []
            found.extend(_uncovered(model, root, family, chunk))
            self.progress.advance(label, len(chunk))
            keys = found.keys()
            if len(keys):
                self.graph.add(model, keys, outside=False, referenced=False)

    def _selected_keys(self, model: Model) -> Iterator[Any]:
        """The keys of the selected rows of ``model``: those the closure found, else read."""
        if self.selection.keys is not None:
            return iter(self.selection.keys.get(model, ()))
        rows = self.selection.rows(model, self.using).values_list(*self.graph.columns(model, ["pk"]), flat=True)
        return rows.iterator(chunk_size=2000)

    def _link_second_children(self) -> None:
        """A parent row that objects of two models share (a place that is a restaurant *and* a
        bar) is created by the first of them in the family; the others come after it and link
        to it (:meth:`primary`)."""
        for root, family in self.families.items():
            for number, objects in enumerate(family[1:], 1):
                if root in objects.aliases:
                    continue
                for key in objects.keys:
                    for earlier in family[:number]:
                        rank = earlier.rank(root, key)
                        if rank >= 0:
                            earlier.referenced[rank] = 1
                            self.model_succ[objects.model].add(earlier.model)
                            break

    def _reference(self, source: Model | None, model: Model, key: Any) -> None:
        if self.is_lookup(model):
            self._lookup_pending[model].add(key)
            return
        found = self.find(model, key)
        if found is not None:
            objects, rank = found
            objects.referenced[rank] = 1
            if source is not None:
                self.model_succ[source].add(objects.model)
        elif (model, key) not in self.dangling:
            sources = self._wanted[model].setdefault(key, set())
            if source is not None:
                sources.add(source)

    def _scan(self, objects: Objects) -> None:
        chunks, objects.unscanned = objects.unscanned, []
        columns, refs = self.references(objects.model)
        if not refs:
            return
        for keys in chunks:
            for row in self.rows(objects.model, keys, columns):
                for _, model, key in self.targets_of(row, refs, partial(self._unknown, objects.model)):
                    self._reference(objects.model, model, key)

    def _unknown(self, source: Model, target: Model, by: str, value: Any) -> None:
        """A reference by another field whose key is not known yet: found with the next batch."""
        self._value_pending[(target, by)].setdefault(value, set()).add(source)

    def _collect_m2m(self) -> None:
        for m2m in auto_m2m_fields(self.selection.selected):
            through = m2m.remote_field.through
            assert through is not None
            source_attname = attname(through, m2m.m2m_field_name())
            target_attname = attname(through, m2m.m2m_reverse_field_name())
            target_model = m2m.related_model
            assert isinstance(target_model, type)
            target = concrete_of(target_model)
            keep = self.graph.keep_pks
            rows = (
                through._base_manager.using(self.using)
                .order_by(source_attname, target_attname)
                .values_list(*self.graph.columns(through, [source_attname, target_attname, "pk"]))
            )
            sources: list[Any] = []
            targets: list[Any] = []
            ids: list[Any] = []
            source_model = concrete_of(m2m.model)
            for source_pk, target_pk, link_pk in rows.iterator(chunk_size=5000):
                found = self.find(source_model, source_pk)
                if found is None or found[0].outside[found[1]]:
                    continue
                found[0].referenced[found[1]] = 1
                sources.append(source_pk)
                targets.append(target_pk)
                if keep:
                    ids.append(link_pk)
                self._reference(None, target, target_pk)
            if sources:
                kept = key_array(ids) if keep else None
                self.m2m.append(Links(m2m, target, key_array(sources), key_array(targets), kept))

    def _close(self) -> None:
        """Add the rows that objects point at until nothing points outside; look up the rest."""
        while True:
            for objects in list(self.by_model.values()):
                if objects.unscanned:
                    self._scan(objects)
            self._resolve_values()
            if not self._wanted:
                break
            wanted, self._wanted = self._wanted, defaultdict(dict)
            # Most derived models first: a child object covers its parent rows.
            for model, by_key in sorted(
                wanted.items(), key=lambda item: (-len(item[0]._meta.get_parent_list()), item[0]._meta.label)
            ):
                self._add_wanted(model, by_key)
        self._link_second_children()
        self._fetch_lookups()

    def _resolve_values(self) -> None:
        """The keys of rows that references by another unique field point at."""
        pending, self._value_pending = self._value_pending, defaultdict(dict)
        for (model, field), by_source in sorted(pending.items(), key=lambda item: item[0][0]._meta.label):
            values = sorted(by_source, key=sort_key)
            known = self.by_value.setdefault((model, field), {})
            for start in range(0, len(values), self.max_params):
                chunk = values[start : start + self.max_params]
                rows = model._base_manager.using(self.using).filter(**{f"{field}__in": chunk})
                for value, pk in rows.values_list(*self.graph.columns(model, [field, "pk"])):
                    known.setdefault(value, pk)
            for value, sources in by_source.items():
                pk = known.setdefault(value, None)
                if pk is not None:
                    for source in sources:
                        self._reference(source, model, pk)

    def _add_wanted(self, model: Model, by_key: dict[Any, set[Model]]) -> None:
        """Add the rows of ``model`` that objects point at (their keys, by the models pointing)."""
        keys = sorted(by_key, key=sort_key)
        found: list[Any] = []
        for start in range(0, len(keys), self.max_params):
            chunk = keys[start : start + self.max_params]
            found += (
                model._base_manager.using(self.using)
                .filter(pk__in=chunk)
                .values_list(*self.graph.columns(model, ["pk"]), flat=True)
            )
        self.progress.advance(model._meta.label, len(found))
        present = set(found)
        root = root_model(model)
        family = list(self.families.get(root, []))
        upgrades: dict[int, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
        plain = []
        for key in (key for key in found if self.find(model, key) is None):
            holders = [index for index, objects in enumerate(family) if objects.rank(root, key) >= 0]
            ancestors = [index for index in holders if issubclass(model, family[index].model)]
            if len(ancestors) > 1:
                raise DumpscriptError(
                    f"Cannot dump {model._meta.label}(pk={key!r}): its parent row is held by objects "
                    f"of {', '.join(family[index].model._meta.label for index in ancestors)}"
                )
            if ancestors:  # the child row of a row read as a parent (an FK to a Restaurant at a Place)
                holder = family[ancestors[0]]
                upgrades[ancestors[0]][holder.outside[holder.rank(root, key)]].append(key)
            else:  # a new row, or another child of a parent row that a sibling object creates
                plain.append(key)
        if plain:
            self.graph.add(model, sorted_keys(plain), outside=True, referenced=True)
        for index, by_flag in upgrades.items():
            family[index].remove({key for keys in by_flag.values() for key in keys})
            for flag, moved in by_flag.items():
                self.graph.add(model, sorted_keys(moved), outside=bool(flag), referenced=True)
        for key in keys:
            if key not in present:
                self.dangling.add((model, key))
                continue
            target = self.find(model, key)
            assert target is not None
            target[0].referenced[target[1]] = 1
            for source in by_key[key]:
                self.model_succ[source].add(target[0].model)

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
            for field, values in [("pk", pks), *sorted(by_value.items())]:
                keys = sorted(values, key=sort_key)
                for start in range(0, len(keys), self.max_params):
                    chunk = keys[start : start + self.max_params]
                    for instance in manager.filter(**{f"{field}__in": chunk}):
                        lookup = self._lookup(model, instance)
                        key = instance.pk if field == "pk" else ("value", field, getattr(instance, field))
                        self.natural[(model, key)] = lookup

    def _lookup(self, model: Model, instance: models.Model) -> Lookup:
        fields = self.selection.lookup_fields(model)
        if fields:
            return Lookup(model, tuple(getattr(instance, name) for name in fields), fields)
        return Lookup(model, tuple(instance.natural_key()))  # type: ignore[attr-defined]


def _uncovered(model: Model, root: Model, family: list[Objects], chunk: list[Any]) -> list[Any]:
    """The keys of ``chunk`` that no object of a more derived model covers (models are read
    most derived first); a key that a sibling model has already (a second child of one parent
    row) is kept: :meth:`Graph._link_second_children` links it."""
    if not family:
        return chunk
    return [pk for pk in chunk if not any(issubclass(o.model, model) and o.rank(root, pk) >= 0 for o in family)]
