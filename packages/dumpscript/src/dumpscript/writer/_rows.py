"""Rows read again a batch at a time, as the objects the writer writes: their values, and what
each reference points at (an object's variable, or a looked-up row)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from django.db import models
from django.db.models import F
from django.db.models.lookups import IsNull

from dumpscript.errors import DumpscriptError
from dumpscript.graph import Graph, Objects
from dumpscript.meta import Lookup, Model, Reference, parent_link, root_model, sort_key
from dumpscript.meta.relations import references
from dumpscript.plan import Names, Plan
from dumpscript.values._encoders import JSON_NULL


@dataclass(frozen=True)
class TypedTarget:
    """A generic relation whose content type is not its object's own model (a parent or a
    proxy stored on purpose): written as the content type and the object's key."""

    var: str
    content_type: Lookup
    key: str = "pk"
    """The attribute of the object that holds its key in the stored model's table."""


Target = str | Lookup | TypedTarget
"""What a reference points at: the variable of an object of the script, or a looked-up row."""

_NONE: frozenset[str] = frozenset()


@dataclass(eq=False)
class Obj:
    """One object to write: its row's values and the targets of its references."""

    model: Model
    pk: Any
    values: dict[str, Any]
    """Field attname → value, for every field the script writes."""
    var: str = ""
    targets: dict[str, Target] = field(default_factory=dict)
    """Reference name → what it points at (references to missing rows are absent)."""
    link: str = ""
    """For a second child of one parent row: the parent-link field, set to the object that
    creates the shared row (in :attr:`targets`)."""
    referenced: bool = False
    """A later statement refers to it: it gets a variable."""
    deferred: set[str] | frozenset[str] = _NONE
    """The names of its references that are set after it is created."""


class RowFilter(Protocol):
    """Changes rows on their way from the database to the script (the anonymiser)."""

    def filter(self, model: Model, names: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """The rows ``(pk, *names)`` of ``model`` as the script writes them."""
        ...


class RowReader:
    """Reads the objects of a span a batch at a time (one query per batch)."""

    def __init__(self, graph: Graph, plan: Plan, names: Names, filters: Iterable[RowFilter] = ()) -> None:
        self.graph, self.plan, self.names = graph, plan, names
        self.filters = tuple(filters)
        self._columns: dict[Model, tuple[list[str], list[Reference]]] = {}
        self._resolvers: dict[Model, list[tuple[str, int, Callable[[Any], Target | None]]]] = {}
        self._targets: dict[Model, Callable[[Any], Target | None]] = {}
        self._json: dict[Model, tuple[list[Any], list[tuple[int, int | None]]]] = {}

    def rename(self, names: Names) -> None:
        """Read with other names (an insertion found an object the script creates already):
        targets are resolved anew."""
        self.names = names
        self._resolvers.clear()
        self._targets.clear()

    def columns(self, model: Model) -> tuple[list[str], list[Reference]]:
        """The columns of ``model``'s rows (the written fields) and its references in them."""
        if model not in self._columns:
            fields = self.graph.fields(model)
            names = [f.attname for f in fields]
            self._columns[model] = (names, references(model, fields, names))
        return self._columns[model]

    def json_nulls(self, model: Model) -> tuple[list[Any], list[tuple[int, int | None]]]:
        """For JSON ``null`` (read as None, like SQL NULL): a column per nullable JSONField that
        says SQL NULL, and ``(value column, that column or None)`` per JSONField."""
        if model not in self._json:
            names, _ = self.columns(model)
            flags: list[Any] = []
            spots: list[tuple[int, int | None]] = []
            for f in self.graph.fields(model):
                if isinstance(f, models.JSONField):
                    spots.append((names.index(f.attname) + 1, len(names) + 1 + len(flags) if f.null else None))
                    if f.null:
                        flags.append(IsNull(F(f.attname), True))
            self._json[model] = (flags, spots)
        return self._json[model]

    def rows(self, objects: Objects, start: int, stop: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """``(key rank, row)`` of the objects at creation positions ``start`` to ``stop``, in
        creation order: one batch read again."""
        model = objects.model
        keys = self.plan.creation_keys(objects, start, stop)
        names, _ = self.columns(model)
        flags, spots = self.json_nulls(model)
        found = self.graph.rows(model, sorted(keys, key=sort_key), [*names, *flags])
        if spots:
            found = (_json_null(row, spots, len(names) + 1) for row in found)
        for row_filter in self.filters:
            found = row_filter.filter(model, names, found)
        rows = {row[0]: row for row in found}
        for position, key in enumerate(keys, start):
            row = rows.get(key)
            if row is None:
                raise DumpscriptError(
                    f"{model._meta.label}(pk={key!r}) was deleted while it was being dumped; dump again"
                )
            yield self.plan.rank(model, position), row

    def read(self, model: Model, start: int, stop: int) -> list[Obj]:
        """The objects at creation positions ``start`` to ``stop`` of ``model`` (but those the
        script being edited creates already), with their values and targets."""
        plan, naming = self.plan, self.names
        objects = self.graph.by_model[model]
        names, refs = self.columns(model)
        resolvers = self.resolvers(model)
        generic = [ref for ref in refs if ref.kind == "generic"]
        family = len(self.graph.families[root_model(model)]) > 1
        result = []
        for rank, row in self.rows(objects, start, stop):
            if naming.is_reused(model, rank):
                continue
            key = row[0]
            obj = Obj(model, key, dict(zip(names, row[1:], strict=True)), naming.var(model, rank))
            obj.referenced = plan.referenced(objects, rank)
            obj.deferred = plan.deferred_names.get((model, rank), _NONE)
            if family:
                primary = self.graph.primary(objects, key)
                if primary is not None:
                    obj.link = parent_link(model, primary[0].model)
                    obj.targets[obj.link] = naming.var(primary[0].model, primary[1])
            targets = obj.targets
            for name, column, resolve in resolvers:
                value = row[column]
                if value is not None:
                    target = resolve(value)
                    if target is not None:
                        targets[name] = target
            if generic:
                for ref in generic:
                    target = self._generic(row, ref)
                    if target is not None:
                        targets[ref.name] = target
            result.append(obj)
        return result

    def _generic(self, row: tuple[Any, ...], ref: Reference) -> Target | None:
        """The target of a generic relation: the object, typed when the stored content type is
        not the model of the object the script creates for that row."""
        for _, target_model, key in self.graph.targets_of(row, [ref]):
            target = self.resolver(target_model)(key)
            if not isinstance(target, str):
                return target
            stored = self.graph.content_model(row[ref.ct_column])
            found = self.graph.find(target_model, key)
            if stored is not None and found is not None and found[0].model is not stored:
                from django.contrib.contenttypes.models import ContentType

                typed = Lookup(ContentType, (stored._meta.app_label, stored._meta.model_name))
                if root_model(found[0].model) is root_model(stored):
                    return TypedTarget(target, typed)
                return TypedTarget(target, typed, stored._meta.pk.attname)  # a child with a key of its own
            return target
        return None

    def resolvers(self, model: Model) -> list[tuple[str, int, Callable[[Any], Target | None]]]:
        """``(name, column, value → target)`` of each foreign key of ``model``'s rows."""
        if model not in self._resolvers:
            _, refs = self.columns(model)
            found = []
            graph = self.graph
            for ref in refs:
                if ref.target is None or ref.kind == "embedded":  # keys in a value: its writer's
                    continue
                if ref.kind == "key":
                    found.append((ref.name, ref.column, self.resolver(ref.target)))
                elif graph.is_lookup(ref.target):  # a looked-up row, by another unique field
                    found.append((ref.name, ref.column, partial(_natural_by_value, graph.natural, ref.target, ref.by)))
                else:  # by another unique field: its value → the key → the target
                    by_value = graph.by_value.get((ref.target, ref.by), {})
                    found.append((ref.name, ref.column, partial(_by_value, by_value, self.resolver(ref.target))))
            self._resolvers[model] = found
        return self._resolvers[model]

    def resolver(self, model: Model) -> Callable[[Any], Target | None]:
        """Key of a ``model`` row → its object's variable, or its lookup."""
        if model in self._targets:
            return self._targets[model]
        graph, naming = self.graph, self.names
        if graph.is_lookup(model):
            resolve: Callable[[Any], Target | None] = partial(_natural, graph.natural, model)
        else:
            cache: dict[Any, tuple[Any, str]] = {}

            def resolve(key: Any) -> Target | None:
                cached = cache.get(key)
                if cached is None or type(cached[0]) is not type(key):
                    found = graph.find(model, key)
                    if found is None:
                        return None
                    cached = (key, naming.var(found[0].model, found[1]))
                    if len(cache) >= 4096:  # a few targets referenced often (tags), not every one
                        cache.clear()
                    cache[key] = cached
                return cached[1]

        self._targets[model] = resolve
        return resolve


def _natural(natural: dict[tuple[Model, Any], Lookup], model: Model, key: Any) -> Lookup | None:
    return natural.get((model, key))


def _natural_by_value(
    natural: dict[tuple[Model, Any], Lookup], model: Model, attname: str, value: Any
) -> Lookup | None:
    return natural.get((model, ("value", attname, value)))


def _by_value(keys: dict[Any, Any], resolve: Callable[[Any], Target | None], value: Any) -> Target | None:
    """A reference by another unique field: its value → the row's key → the target."""
    key = keys.get(value)
    return None if key is None else resolve(key)


def _json_null(row: tuple[Any, ...], spots: list[tuple[int, int | None]], width: int) -> tuple[Any, ...]:
    """``row`` without its SQL NULL flags, JSON ``null`` values as :data:`JSON_NULL`."""
    if any(row[column] is None and (flag is None or not row[flag]) for column, flag in spots):
        values = list(row)
        for column, flag in spots:
            if values[column] is None and (flag is None or not values[flag]):
                values[column] = JSON_NULL
        row = tuple(values)
    return row[:width]
