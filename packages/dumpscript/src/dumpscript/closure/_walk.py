"""The walk: from the selected rows along reverse relations, breadth first, by chunks of keys.

Only primary keys are read (``values_list("pk")`` of the rows that point at a chunk of keys)
and kept, as one set per model; each row is added once, at its smallest number of reverse
hops (so ``depth`` limits those). The queries grow with the relations followed and the chunks
of keys, never with rows one by one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, models

from dumpscript.closure._keyset import KeySet
from dumpscript.closure._preview import StoppedRelation, SubsetStep
from dumpscript.closure._relations import Reverse, reverse_relations
from dumpscript.closure._rules import Decision, Rules
from dumpscript.meta.keys import KeyColumns, sort_key
from dumpscript.meta.relations import Model
from dumpscript.selection import Selection


@dataclass(eq=False)
class _Step:
    """A step of the walk while it grows (:class:`SubsetStep` once done)."""

    model: Model
    relation: Reverse | None = None
    parent: _Step | None = None
    reason: str = "selected"
    rows: int = 0
    recursive: bool = False
    steps: dict[tuple[str, ...], _Step] = field(default_factory=dict)
    stopped: dict[tuple[str, ...], tuple[Reverse, Decision, int]] = field(default_factory=dict)

    def step(self, relation: Reverse, decision: Decision) -> _Step:
        """The step that rows reached from this one through ``relation`` belong to: the step
        above that came through the same relation (recursion), or a new one."""
        above: _Step | None = self
        while above is not None:
            if above.relation is not None and above.relation.key == relation.key:
                above.recursive = True
                return above
            above = above.parent
        if relation.key not in self.steps:
            self.steps[relation.key] = _Step(relation.related, relation, self, decision.reason)
        return self.steps[relation.key]

    def stop(self, relation: Reverse, decision: Decision, rows: int) -> None:
        if rows:
            _, _, before = self.stopped.get(relation.key, (relation, decision, 0))
            self.stopped[relation.key] = (relation, decision, before + rows)

    def done(self) -> SubsetStep:
        return SubsetStep(
            self.model._meta.label,
            self.rows,
            self.relation.label if self.relation is not None else None,
            self.reason,
            self.recursive,
            tuple(step.done() for step in self.steps.values()),
            tuple(
                StoppedRelation(relation.label, relation.related._meta.label, decision.reason, rows, decision.hint)
                for relation, decision, rows in self.stopped.values()
            ),
        )


class Walk:
    """The closure of ``selection`` under ``rules``: :attr:`keys` per model, :attr:`steps`.

    ``expand=False`` counts the selected rows only (:attr:`keys` stays empty); ``count_stopped``
    counts the rows of the relations not followed (for the preview)."""

    def __init__(
        self, selection: Selection, rules: Rules, using: str, *, expand: bool = True, count_stopped: bool = False
    ) -> None:
        self.selection = selection
        self.rules = rules
        self.using = using
        self.expand = expand
        self.count_stopped = count_stopped
        self.key_columns = KeyColumns(using)
        self.max_params = min(connections[using].features.max_query_params or 999, 999) - 10
        self.keys: dict[Model, KeySet] = {}
        self._tables: set[str] | None = None
        self._content_types: dict[tuple[str, str], int] | None = None
        self.steps = self._run()

    def _run(self) -> list[_Step]:
        queue: deque[tuple[_Step, list[Any], int]] = deque()
        roots = []
        for model in sorted(self.selection.selected, key=lambda m: m._meta.label):
            if not self.expand:  # whole models: their rows are counted, not kept
                roots.append(_Step(model, rows=self.selection.rows(model, self.using).count()))
                continue
            seen = self.keys.setdefault(model, KeySet())
            before = len(seen)
            rows = self.selection.rows(model, self.using).values_list(
                *self.key_columns.columns(model, ["pk"]), flat=True
            )
            new = [pk for pk in rows.iterator(chunk_size=2000) if pk not in seen]
            seen.update(new)
            root = _Step(model, rows=len(seen) - before)
            roots.append(root)
            queue.append((root, sorted(new, key=sort_key), 0))
        while queue:
            step, keys, depth = queue.popleft()
            for relation in reverse_relations(step.model):
                decision = self._decide(relation, depth)
                if not decision.followed:
                    if self.count_stopped and self._has_tables(relation):
                        step.stop(relation, decision, self._count(relation, keys))
                    continue
                new = self._follow(relation, keys)
                if new:
                    reached = step.step(relation, decision)
                    reached.rows += len(new)
                    queue.append((reached, new, depth + 1))
        return roots

    def _decide(self, relation: Reverse, depth: int) -> Decision:
        related = relation.related
        if related in self.selection.migrated:
            return Decision(False, "rows migrations create")
        if not related._meta.managed or related._meta.swapped:
            return Decision(False, "not managed by Django")
        if not self._has_tables(relation):
            return Decision(False, f"no table in database {self.using!r}")
        decision = self.rules.decide(relation)
        if decision.followed and self.rules.depth is not None and depth >= self.rules.depth:
            return Decision(
                False, f"{decision.reason}, beyond --depth {self.rules.depth}", "a larger --depth to include"
            )
        return decision

    def _has_tables(self, relation: Reverse) -> bool:
        """The tables a relation reads exist: the related model's, and a many-to-many's links."""
        tables = {relation.related._meta.db_table}
        if relation.kind == "many-to-many":
            through = relation.related._meta.get_field(relation.lookup).remote_field.through  # type: ignore[union-attr]
            tables.add(through._meta.db_table)
        return tables <= self._table_names()

    def _follow(self, relation: Reverse, keys: list[Any]) -> list[Any]:
        """The keys of the rows of ``relation.related`` that point at ``keys`` and that the
        closure does not hold yet (now added), sorted."""
        seen = self.keys.setdefault(relation.related, KeySet())
        new = []
        columns = self.key_columns.columns(relation.related, ["pk"])
        for rows in self._pointing(relation, keys):
            for pk in rows.values_list(*columns, flat=True):
                if pk not in seen:
                    seen.add(pk)
                    new.append(pk)
        return sorted(new, key=sort_key)

    def _count(self, relation: Reverse, keys: list[Any]) -> int:
        """Rows that point at ``keys`` through ``relation`` (links of a many-to-many one)."""
        return sum(rows.count() for rows in self._pointing(relation, keys))

    def _pointing(self, relation: Reverse, keys: Sequence[Any]) -> Iterator[models.QuerySet[Any]]:
        """Per chunk of ``keys``: the rows of ``relation.related`` that point at those rows."""
        related = relation.related
        manager = related._default_manager if self.selection.use_default_manager else related._base_manager
        fixed: dict[str, Any] = {}
        if relation.content_type is not None:
            content_type = self._content_type(relation.model)
            if content_type is None:
                return  # no row can point at a model without a content type
            fixed[relation.content_type] = content_type
            keys = self._object_ids(relation, keys)
        for start in range(0, len(keys), self.max_params):
            chunk = list(keys[start : start + self.max_params])
            values: Any = chunk
            if relation.target is not None:
                values = relation.model._base_manager.using(self.using).filter(pk__in=chunk).values(relation.target)
            yield manager.using(self.using).filter(**fixed, **{f"{relation.lookup}__in": values}).order_by()

    def _object_ids(self, relation: Reverse, keys: Sequence[Any]) -> list[Any]:
        """``keys`` as values of the object id field of a generic relation (those it can hold)."""
        object_id: Any = relation.related._meta.get_field(relation.lookup)
        result = []
        for key in keys:
            try:
                value = object_id.to_python(key)
            except (ValidationError, TypeError, ValueError):
                continue
            if str(value) == str(key):  # not a key of another type made to fit (a UUID as an integer)
                result.append(value)
        return result

    def _content_type(self, model: Model) -> int | None:
        if self._content_types is None:
            from django.contrib.contenttypes.models import ContentType

            self._content_types = {
                (app_label, name): pk
                for pk, app_label, name in ContentType.objects.using(self.using).values_list("pk", "app_label", "model")
            }
        return self._content_types.get((model._meta.app_label, model._meta.model_name or ""))

    def _table_names(self) -> set[str]:
        if self._tables is None:
            self._tables = set(connections[self.using].introspection.table_names())
        return self._tables
