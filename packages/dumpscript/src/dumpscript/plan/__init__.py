"""The graph and its ordering → the plan: the sections in creation order (spans of objects and
the links set afterwards), where each object is created, how rows of each model are matched in
the target, and the variables the objects get.

The plan is plain, frozen data that the writer takes as input. The names come from
:class:`Names`, built from the plan and from what the script being edited has already
(:class:`Existing`, empty for a whole script): objects that script creates keep its variable,
and the numbering continues after its names.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dumpscript.graph import Graph, Objects
from dumpscript.meta import Model
from dumpscript.naming import highest, model_stem, snake
from dumpscript.ordering import DeferredLink, Ordering, Placement, Section, Span

__all__ = ["DeferredLink", "Existing", "Names", "Plan", "Section", "Span", "build_plan"]

_EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Plan:
    """What the script creates, in order: the writer's input with the graph."""

    sections: tuple[Section, ...]
    placements: Mapping[Model, Placement]
    spans: tuple[Span, ...]
    stems: Mapping[Model, str]
    """Model → the stem of its variables (``poll`` for ``poll_1``)."""
    deferred_names: Mapping[tuple[Model, int], frozenset[str]]
    """``(model, key rank) → names`` of the references set after the object is created."""
    counts: Mapping[Model, int]
    """Objects per model (those the script creates or matches)."""
    classes: frozenset[Model]
    """The models the script names: those it creates, and those it looks rows up in."""
    matches: Mapping[Model, tuple[str, ...]] = field(default_factory=lambda: _EMPTY)
    """Model → the fields by which its rows are matched in the target (created where missing),
    for the models whose rows may exist already (content types, ``--upsert``…)."""
    upsert: bool = False
    """Every object is matched and updated, or created (``--upsert``)."""
    left_out: tuple[str, ...] = ()
    """Models of the selected apps that have no table, one line each for the user."""

    # -- positions -------------------------------------------------------------------------

    def position(self, model: Model, rank: int) -> int:
        """The creation position (among ``model``'s objects) of the object of key rank ``rank``."""
        placement = self.placements.get(model)
        return rank if placement is None else placement.pos[rank]

    def rank(self, model: Model, position: int) -> int:
        placement = self.placements.get(model)
        return position if placement is None else placement.order[position]

    def creation_keys(self, objects: Objects, start: int, stop: int) -> list[Any]:
        """The keys of the objects at creation positions ``start`` to ``stop``."""
        placement = self.placements.get(objects.model)
        if placement is None:
            return list(objects.keys[start:stop])
        return [objects.keys[rank] for rank in placement.order[start:stop]]

    def referenced(self, objects: Objects, rank: int) -> bool:
        """A later statement refers to the object: it gets a variable."""
        return bool(objects.referenced[rank]) or (objects.model, rank) in self.deferred_names

    def match_fields(self, model: Model) -> tuple[str, ...]:
        return self.matches.get(model, ())

    def total(self) -> int:
        return sum(span.stop - span.start for span in self.spans)


def build_plan(
    graph: Graph,
    ordering: Ordering,
    *,
    matches: Mapping[Model, tuple[str, ...]] = _EMPTY,
    upsert: bool = False,
    left_out: tuple[str, ...] = (),
) -> Plan:
    """The plan of ``graph`` in the order of ``ordering``."""
    spans = tuple(span for section in ordering.sections for span in section.spans)
    deferred: dict[tuple[Model, int], set[str]] = defaultdict(set)
    for section in ordering.sections:
        for link in section.deferred:
            deferred[(link.source, link.source_rank)].add(link.name)
    classes = {span.model for span in spans} | {lookup.model for lookup in graph.natural.values()}
    return Plan(
        sections=tuple(ordering.sections),
        placements=MappingProxyType(dict(ordering.placements)),
        spans=spans,
        stems=MappingProxyType(_stems(spans)),
        deferred_names=MappingProxyType({key: frozenset(names) for key, names in deferred.items()}),
        counts=MappingProxyType({model: len(objects) for model, objects in graph.by_model.items()}),
        classes=frozenset(classes),
        matches=MappingProxyType({model: fields for model, fields in matches.items() if fields}),
        upsert=upsert,
        left_out=left_out,
    )


@dataclass(frozen=True)
class Existing:
    """What the script being edited has already, an input of an insertion's names."""

    reused: Mapping[Model, Mapping[int, str]] = field(default_factory=lambda: _EMPTY)
    """Model → key rank → the variable of an object the script creates already (empty: an
    element of a list, that gets the object's numbered name)."""
    taken: frozenset[str] = frozenset()
    """The script's names: the numbering continues after the highest ``stem_N`` of them."""
    provisional: bool = False
    """Names are not given yet (while the script's objects are being matched): objects that
    are not reused have an empty name."""

    def with_reused(self, model: Model, rank: int, var: str) -> Existing:
        reused = {m: dict(ranks) for m, ranks in self.reused.items()}
        reused.setdefault(model, {})[rank] = var
        return Existing(MappingProxyType(reused), self.taken, self.provisional)


class Names:
    """The variable of each object of a plan: ``stem_N``, numbered per model in creation order
    (after the names the script being edited has), or the script's own for a reused object."""

    def __init__(self, plan: Plan, existing: Existing | None = None) -> None:
        existing = existing or Existing()
        self.plan = plan
        self.existing = existing
        self.reused = existing.reused
        taken = existing.taken
        self._bases = {model: highest(stem, taken) for model, stem in plan.stems.items()} if taken else {}
        self._skipped: dict[Model, list[int]] = {
            model: sorted(plan.position(model, rank) for rank, var in ranks.items() if var)
            for model, ranks in existing.reused.items()
        }

    def var(self, model: Model, rank: int) -> str:
        reused = self.reused.get(model)
        if reused:
            name = reused.get(rank)
            if name:
                return name
        if self.existing.provisional:
            return ""
        position = self.plan.position(model, rank)
        skipped = self._skipped.get(model)
        if skipped:
            position -= bisect.bisect_left(skipped, position)
        return f"{self.plan.stems[model]}_{self._bases.get(model, 0) + position + 1}"

    def is_reused(self, model: Model, rank: int) -> bool:
        reused = self.reused.get(model)
        return bool(reused) and rank in reused  # type: ignore[operator]

    def created(self) -> Counter[str]:
        """Objects the script creates, per model label (the reused ones left out)."""
        counts: Counter[str] = Counter()
        for model, count in self.plan.counts.items():
            count -= len(self.reused.get(model, ()))
            if count:
                counts[model._meta.label] = count
        return counts


def _stems(spans: tuple[Span, ...]) -> dict[Model, str]:
    """``italian_restaurant`` for ``ItalianRestaurant``; prefixed by the app label when two
    models of different apps have the same name."""
    stems: dict[Model, str] = {}
    used_by: dict[str, Model] = {}
    for span in spans:
        if span.model not in stems:
            stem = model_stem(span.model)
            if used_by.setdefault(stem, span.model) is not span.model:
                stem = f"{snake(span.model._meta.app_label)}_{stem}"
            stems[span.model] = stem
    return stems
