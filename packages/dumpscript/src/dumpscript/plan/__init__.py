"""The graph and its ordering → the plan: the sections in creation order (spans of objects and
the links set afterwards), where each object is created, and the variable each one gets.

The plan is plain data that the writer takes as input. An insertion into a script a person has
edited changes it before the writer runs: objects the script creates already keep the script's
variable (:meth:`Plan.reuse`), and the numbering continues after the script's names
(:meth:`Plan.number_after`).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from typing import Any

from dumpscript.graph import Graph, Model, Objects
from dumpscript.naming import highest, model_stem, snake
from dumpscript.ordering import DeferredLink, Ordering, Placement, Section, Span

__all__ = ["DeferredLink", "Plan", "Section", "Span"]


class Plan:
    """What the script creates, in order, and the names it gives."""

    def __init__(self, graph: Graph, ordering: Ordering) -> None:
        self.graph = graph
        self.sections: list[Section] = ordering.sections
        self.placements: dict[Model, Placement] = ordering.placements
        self.spans: list[Span] = [span for section in self.sections for span in section.spans]
        self.stems: dict[Model, str] = _stems(self.spans)
        self.deferred_names: dict[tuple[Model, int], set[str]] = defaultdict(set)
        """``(model, key rank) → names`` of the references set after the object is created."""
        for section in self.sections:
            for link in section.deferred:
                self.deferred_names[(link.source, link.source_rank)].add(link.name)
        self.bases: dict[Model, int] = {}
        """Variables of a model are numbered from ``base + 1`` (an insertion continues a script's
        numbering)."""
        self.reused: dict[Model, dict[int, str]] = defaultdict(dict)
        """Model → key rank → the variable of an object that the script being edited creates
        already (empty: an element of a list, that gets the object's numbered name)."""
        self._skipped: dict[Model, list[int]] = defaultdict(list)
        self.provisional = False
        """Names are not given yet: objects that are not reused have an empty name."""

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
        return bool(objects.named[rank]) or (objects.model, rank) in self.deferred_names

    def classes(self) -> set[Model]:
        """The models the script names: those it creates, and those it looks rows up in."""
        used = {span.model for span in self.spans}
        used.update(lookup.model for lookup in self.graph.natural.values())
        return used

    def total(self) -> int:
        return sum(span.stop - span.start for span in self.spans)

    # -- names -----------------------------------------------------------------------------

    def var(self, model: Model, rank: int) -> str:
        """The variable of an object: ``stem_N``, numbered per model in creation order."""
        reused = self.reused.get(model)
        if reused:
            name = reused.get(rank)
            if name:
                return name
        if self.provisional:
            return ""
        position = self.position(model, rank)
        skipped = self._skipped.get(model)
        if skipped:
            position -= bisect.bisect_left(skipped, position)
        return f"{self.stems[model]}_{self.bases.get(model, 0) + position + 1}"

    def is_reused(self, model: Model, rank: int) -> bool:
        reused = self.reused.get(model)
        return bool(reused) and rank in reused  # type: ignore[operator]

    def reuse(self, model: Model, rank: int, var: str) -> None:
        """The script being edited creates this object already, as ``var`` (or, with an empty
        ``var``, as an element of a list): it is not created again."""
        self.reused[model][rank] = var
        if var:
            bisect.insort(self._skipped[model], self.position(model, rank))

    def number_after(self, taken: set[str]) -> None:
        """Number the objects after the highest ``stem_N`` in ``taken`` (a script's names)."""
        self.provisional = False
        for model, stem in self.stems.items():
            self.bases[model] = highest(stem, taken) if taken else 0

    def created(self) -> Counter[str]:
        """Objects the script creates, per model label."""
        counts: Counter[str] = Counter()
        for model, objects in self.graph.by_model.items():
            count = len(objects) - len(self.reused.get(model, ()))
            if count:
                counts[model._meta.label] = count
        return counts


def _stems(spans: list[Span]) -> dict[Model, str]:
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
